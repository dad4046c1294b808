"""Accepting a new twin: place it in the pool, reserve its capacity and quota, write its row, start its job.

The row is written before the orchestration starts, so a twin is listed the moment it is
accepted; if starting the orchestration then fails, the next request for the same twin finds a
row whose job does not exist and starts it (the same job id), so nothing is lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

import azure.durable_functions as df

from controlplane.auth import Principal
from controlplane.domain.errors import InvalidInput, SlotFull, TwinExists
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.placement import (
    DEFAULT_MAX_RESOURCE_GROUPS,
    DEFAULT_MAX_TWINS_PER_REGION,
    Placement,
    candidates,
    owner_slot,
    preferring,
    subscription_slot,
    two_choices,
)
from controlplane.domain.twin import Twin, utc_now
from controlplane.registry import TwinRegistry
from controlplane.service.callbacks import checked_callback_url
from controlplane.service.errors import NameTaken, PoolExhausted, QuotaExceeded
from controlplane.service.jobs import PROVISION, Accepted, job_exists, new_job_id
from controlplane.service.requests import CreateRequest
from controlplane.settings import Settings
from controlplane.workflows import durable_calls
from controlplane.workflows.job_inputs import job_for


def quota_for(principal: Principal, settings: Settings) -> int | None:
    """How many live twins this caller's owner may hold (None: no limit). Operators are exempt unless told not to be."""
    exempt = principal.is_operator and settings.operators_quota_exempt
    return None if exempt or settings.owner_quota == 0 else settings.owner_quota


async def create(
    request: CreateRequest,
    owner: str,
    registry: TwinRegistry,
    client: df.DurableOrchestrationClient,
    settings: Settings,
    *,
    quota: int | None = None,
) -> Accepted:
    """Accept a twin: place it, reserve its capacity and write its row, then start provisioning.

    ``quota`` is how many live twins ``owner`` may hold (None: no limit).
    """
    names = twin_names(request.name)
    region = request.region.lower() if request.region else None
    pool_regions = sorted({r for entry in settings.subscription_pool for r in entry.regions})
    if region is not None and region not in pool_regions:
        raise InvalidInput("region", f"region must be one of: {', '.join(pool_regions)}")
    quota_slots = {owner_slot(owner): quota} if quota is not None else {}
    fields: dict[str, Any] = {
        "owner": owner,
        "runtime_target": request.runtime_target or settings.default_runtime_target,
        "deploy_ref": request.deploy_ref or settings.default_deploy_ref,
        "job_id": new_job_id(),
        "callback_url": await checked_callback_url(request.callback_url, settings),
    }
    # Table Storage calls are synchronous: they run on a worker thread, never on the event loop that
    # every other request of this instance is served from.
    try:
        row = await asyncio.to_thread(
            _place, names.cloud_id, names.name, fields, region, quota_slots, registry, settings, existing=None
        )
    except TwinExists:
        existing = await asyncio.to_thread(registry.get, names.cloud_id)
        if (
            existing.status == Status.PROVISIONING
            and existing.owner == owner
            and not await job_exists(client, existing.job_id)
        ):
            row = existing  # its row was written but its job never started: start that job now
        else:
            row = await asyncio.to_thread(
                _reprovision, existing, owner, fields, region, quota_slots, registry, settings
            )
    await durable_calls.start_new(client, PROVISION, row.job_id, job_for(row, settings).to_input())
    return Accepted(row.job_id, row)


def _place(
    cloud_id: str, name: str, fields: dict[str, Any], region: str | None, quota_slots: dict[str, int],
    registry: TwinRegistry, settings: Settings, *, existing: Twin | None,
) -> Twin:  # fmt: skip
    """Write the row in the first place of the pool with room (a new row, or a deleted one anew)."""
    full: list[SlotFull] = []
    places = candidates(
        settings.subscription_pool, cloud_id=cloud_id, region=region, default_region=settings.default_region
    )
    choices = two_choices(settings.subscription_pool, cloud_id=cloud_id)
    if choices is not None:  # the one of two holding fewer twins first (ties: the hash's first)
        lighter = min(choices, key=lambda subscription: registry.capacity.usage(subscription_slot(subscription)))
        places = preferring(places, lighter)
    # Places this instance lately found full go last (a stable sort: the order is otherwise kept);
    # they are still tried before the pool is called exhausted.
    places.sort(key=lambda place: any(registry.capacity.lately_full(key) for key in place.slots()))
    for place in places:
        slots = {**quota_slots, **place.slots()}
        placed: dict[str, Any] = {"region": place.region, "subscription_id": place.subscription_id}
        try:
            if existing is None:
                now = utc_now()
                row = Twin(
                    cloud_id=cloud_id,
                    name=name,
                    status=Status.PROVISIONING,
                    created_at=now,
                    last_seen=now,
                    **fields,
                    **placed,
                )
                return registry.create(row, slots=slots)
            return registry.restart(cloud_id, slots=slots, **fields, **placed)
        except SlotFull as exc:
            if exc.key in quota_slots:
                raise _quota_exceeded(fields["owner"], exc) from None
            full.append(exc)
    where = f"in {region}" if region else "in any region of the pool"
    counts = "; ".join(f"{f.key.removeprefix('place:')} holds {f.used} of {f.limit}" for f in full)
    raise PoolExhausted(
        f"no subscription has room for another twin {where} ({counts}). Add a subscription to CP_SUBSCRIPTION_POOL, "
        "raise its limits, or delete twins.",
        region=region,
        places=[{"slot": f.key.removeprefix("place:"), "limit": f.limit, "count": f.used} for f in full],
    )


def _reprovision(
    existing: Twin, owner: str, fields: dict[str, Any], region: str | None, quota_slots: dict[str, int],
    registry: TwinRegistry, settings: Settings,
) -> Twin:  # fmt: skip
    """Errored -> provision again where it is; deleted -> provision anew (placed afresh); live -> 409."""
    cloud_id = existing.cloud_id
    if existing.status == Status.DELETED:
        return _place(cloud_id, existing.name, fields, region, quota_slots, registry, settings, existing=existing)
    if existing.owner != owner:
        raise NameTaken(f"the twin name {existing.name} is taken by another owner; choose another name", field="name")
    if existing.status != Status.ERRORED:
        raise NameTaken(
            f"{cloud_id} is already {existing.status.value} (job {existing.job_id}); poll that job or delete the twin first",
            cloud_id=cloud_id,
            job_id=existing.job_id,
            current_status=existing.status.value,
        )
    if region is not None and region != existing.region:
        raise NameTaken(
            f"{cloud_id} exists in {existing.region}; delete it before provisioning it in {region}", field="region"
        )
    # Its resources (if any) are where it is: it keeps its subscription and region.
    place = _placement_of(existing, settings)
    slots = {**quota_slots, **place.slots()}
    slots.update(_held(existing, slots))
    try:
        return registry.restart(
            cloud_id, slots=slots, region=existing.region, subscription_id=place.subscription_id, **fields
        )
    except SlotFull as exc:
        if exc.key in quota_slots:
            raise _quota_exceeded(owner, exc) from None
        raise PoolExhausted(
            f"{exc.key.removeprefix('place:')} holds {exc.used} of {exc.limit}; delete twins there first"
        ) from None


def _placement_of(row: Twin, settings: Settings) -> Placement:
    subscription = row.subscription_id or settings.subscription_id
    entry = next((e for e in settings.subscription_pool if e.subscription_id == subscription), None)
    if entry is None:
        return Placement(subscription, row.region, DEFAULT_MAX_TWINS_PER_REGION, DEFAULT_MAX_RESOURCE_GROUPS)
    return Placement(subscription, row.region, entry.max_twins_per_region, entry.max_resource_groups)


def _quota_exceeded(owner: str, full: SlotFull) -> QuotaExceeded:
    return QuotaExceeded(
        f"{owner} already has {full.used} live brainstems; the limit is {full.limit}. Delete one first.",
        limit=full.limit,
        count=full.used,
    )


def _held(row: Twin, wanted: dict[str, int]) -> dict[str, int]:
    """Slots the row holds that the new request does not name: kept (their limit is not re-checked)."""
    return {key: 0 for key in row.slots if key not in wanted}
