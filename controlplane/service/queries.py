"""Reading the fleet as a caller may see it: one brainstem, a page of them, fleet health, and waking one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError

from controlplane.auth import Principal, can_see, owner_filter_for_list, require_operator
from controlplane.domain.errors import ControlPlaneError, DependencyUnavailable, InvalidInput, TwinNotFound
from controlplane.domain.lifecycle import Status
from controlplane.domain.runtime_targets import target_spec
from controlplane.domain.twin import Page, Twin, timestamp
from controlplane.registry import MAX_PAGE_SIZE, TwinRegistry
from controlplane.service.errors import NotActive
from controlplane.service.updates import validate_deploy_ref
from controlplane.settings import get_settings
from controlplane.twins.probe import probe

logger = logging.getLogger(__name__)
LIST_PARAMS = frozenset(
    {"owner", "status", "runtime_target", "deploy_ref", "stale", "limit", "next", "code"}
)  # `code` carries a function key
DEFAULT_PAGE_SIZE = 100


def visible_twin(principal: Principal, cloud_id: str, registry: TwinRegistry) -> Twin:
    """The row, if this caller may see it. Another owner's twin is 'not found', not 'forbidden'."""
    row = registry.get(cloud_id)
    if not can_see(principal, row.owner):
        hidden = TwinNotFound(f"no brainstem {cloud_id}", cloud_id=cloud_id)
        hidden.another_owner = True  # audited like a 403, answered as a 404
        raise hidden
    return row


def list_page(principal: Principal, params: dict[str, str], registry: TwinRegistry) -> Page:
    """One page of the rows this caller may see, filtered by the query parameters (validated here).

    ``params`` keeps empty values (``?status=``): an empty filter is a 400 naming it, never "no filter".
    Filters combine: ``stale=true`` narrows to active twins unseen lately, so with another status the page is empty.
    """
    unknown = sorted(set(params) - LIST_PARAMS)
    if unknown:
        raise InvalidInput(
            unknown[0],
            f"unknown query parameter '{unknown[0]}'; use owner, status, runtime_target, deploy_ref, stale, limit, next",
        )
    status = params.get("status")
    if status is not None and status not in {s.value for s in Status}:
        raise InvalidInput("status", f"status must be one of: {', '.join(s.value for s in Status)}")
    runtime_target = params.get("runtime_target")
    seen_before = _stale_cutoff(params.get("stale"))
    next_token = params.get("next")
    if next_token == "":
        raise InvalidInput("next", "next is the opaque token of the previous page; leave it out for the first page")
    owner = owner_filter_for_list(principal, params.get("owner"))
    target = None if runtime_target is None else target_spec(runtime_target).name
    deploy_ref = None if params.get("deploy_ref") is None else validate_deploy_ref(params["deploy_ref"])
    limit = _limit(params.get("limit"))
    if seen_before and status not in (None, Status.ACTIVE.value):
        return Page(items=[], next=None)  # stale twins are active ones: none has another status
    return registry.list(
        owner=owner,
        status=Status.ACTIVE if seen_before else Status(status) if status else None,
        seen_before=seen_before,
        runtime_target=target,
        deploy_ref=deploy_ref,
        limit=limit,
        next=next_token,
    )


def _stale_cutoff(raw: str | None) -> str | None:
    """``stale=true``: active twins the heartbeat has not heard from for CP_HEARTBEAT_STALE_AFTER_SECONDS."""
    if raw is None or raw == "false":
        return None
    if raw != "true":
        raise InvalidInput("stale", "stale must be true or false")
    return timestamp(datetime.now(UTC) - timedelta(seconds=get_settings().heartbeat_stale_after_seconds))


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    # isdigit() alone accepts '²' and other Unicode digits that int() then refuses: ASCII digits only.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def fleet_health(principal: Principal, registry: Callable[[], TwinRegistry]) -> dict[str, Any]:
    """Fleet counts (16 count shards: O(1) at any fleet size) and whether the registry answers. Operators only.

    ``registry`` is a factory: reaching the registry at all is what health reports on.
    """
    require_operator(principal, "fleet health")
    try:
        counts = registry().counts()
    except ControlPlaneError:
        raise
    except Exception as exc:
        logger.warning("registry unreachable: %s", type(exc).__name__)
        raise DependencyUnavailable("Table Storage (the registry) does not answer", dependency="registry") from None
    try:
        found = registry().reports.summary()
    except AzureError as exc:  # the counts answered: an unreadable report must not hide them
        logger.warning("fleet reports unreadable: %s", type(exc).__name__)
        empty = {"orphans": 0, "orphan_names": [], "drifted": 0, "drifted_names": [], "subscriptions": {}}
        found = {"drift": empty, "heartbeat": {}}
    heartbeat = found["heartbeat"]
    return {
        **counts, "registry": "ok", "stale": int(heartbeat.get("stale") or 0),
        "orphans": found["drift"]["orphans"], "drifted": int(found["drift"].get("drifted") or 0),
        "reconcile": found["drift"], "heartbeat": heartbeat,
    }  # fmt: skip


WAKE_TIMEOUT_SECONDS = 60


def wake(row: Twin, registry: TwinRegistry) -> dict[str, Any]:
    """One GET of an active twin's readiness route (a cold app boots on it); how long it took and what it said.

    Not the root URL: twins disable the Functions landing page (AzureWebJobsDisableHomepage), so only
    the brainstem's own route says whether its code runs."""
    if row.status != Status.ACTIVE or not row.url:
        raise NotActive(
            f"{row.cloud_id} is {row.status.value}; only an active brainstem can be woken", cloud_id=row.cloud_id
        )
    started = time.monotonic()
    status = probe(row.url.rstrip("/") + get_settings().readiness_path, timeout=WAKE_TIMEOUT_SECONDS).status
    elapsed_ms = round((time.monotonic() - started) * 1000)
    awake = status is not None and status < 500
    if awake:
        registry.touch(row.cloud_id)
    return {"cloud_id": row.cloud_id, "url": row.url, "awake": awake, "status": status, "elapsed_ms": elapsed_ms}
