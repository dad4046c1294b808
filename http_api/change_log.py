"""Recording accepted changes: the one function every change route calls, once it has been accepted.

    record_change(principal, Action.HOLD, cloud_id=row.cloud_id, owner=row.owner)

Each HTTP request gets a request id before any code runs (``begin_request`` in ``routes.guarded*``),
time-ordered and minted here, never taken from the caller: a caller-chosen id could collide with
another's and suppress its record. The id is the record's key in Table Storage, so recording the
same request twice writes one record (controlplane.registry.audit_log). Orchestrations never
record: a replayed or redelivered activity cannot add a second record of a change.

The change is already made when this runs. If the audit table does not answer, the change stands,
the full record goes to the ``twinstack.audit`` log at ERROR (Application Insights keeps it), and
the caller still gets the answer to what it did.
"""

from __future__ import annotations

import logging
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime

from azure.core.exceptions import AzureError

from controlplane.auth import Principal
from controlplane.domain.audit import Action, AuditRecord, TargetKind
from controlplane.domain.twin import timestamp
from controlplane.registry import default_registry
from http_api.audit import principal_id

audit = logging.getLogger("twinstack.audit")
_request: ContextVar[tuple[str, str] | None] = ContextVar("audit_request", default=None)


def begin_request() -> str:
    """Mint this request's id (time first, then 64 random bits): it orders as it happened, and is unique."""
    now = timestamp(datetime.now(UTC))
    request_id = now.replace("-", "").replace(":", "").replace(".", "") + "-" + secrets.token_hex(8)
    _request.set((request_id, now))
    return request_id


def current_request_id() -> str | None:
    found = _request.get()
    return found[0] if found else None


def record_change(
    principal: Principal, action: Action, *, cloud_id: str | None = None, rollout_id: str | None = None,
    adoption_id: str | None = None, owner: str | None = None, job_id: str | None = None,
    detail: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """Record one accepted change by ``principal`` to a twin (``cloud_id``, with its ``owner``), a rollout
    or an adoption. ``detail``: plain, non-secret fields (a deploy_ref, setting names, never values)."""
    found = _request.get()
    request_id, occurred_at = found if found else (begin_request(), _request.get()[1])  # type: ignore[index]
    kind, target = _target(cloud_id, rollout_id, adoption_id)
    record = AuditRecord(
        request_id=request_id, occurred_at=occurred_at, action=action, target_kind=kind, target=target,
        principal=principal_id(principal), owner=owner, job_id=job_id, detail=dict(detail or {}),
    )  # fmt: skip
    try:
        default_registry().audit.append(record)
    except AzureError as exc:
        audit.error("audit record not written (%s): %s", type(exc).__name__, record.to_dict())
        return
    audit.info("%s %s %s by %s (request %s)", action.value, kind.value, target, record.principal, request_id)


def _target(cloud_id: str | None, rollout_id: str | None, adoption_id: str | None) -> tuple[TargetKind, str]:
    given = [(k, v) for k, v in ((TargetKind.BRAINSTEM, cloud_id), (TargetKind.ROLLOUT, rollout_id),
                                 (TargetKind.ADOPTION, adoption_id)) if v is not None]  # fmt: skip
    if len(given) != 1:
        raise ValueError("a change names exactly one of cloud_id, rollout_id, adoption_id")
    return given[0]
