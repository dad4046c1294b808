"""What each route does, over the registry and the Durable client. No HTTP types here.

Read a request's life in one place: validate -> registry row -> start orchestration -> answer.
The row is written before the orchestration starts, so a twin is listed the moment it is
accepted; if starting the orchestration then fails, the next request for the same twin finds a
row whose job does not exist and starts it (the same job id), so nothing is lost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from controlplane.brainstem import Brainstem, utc_now
from controlplane.errors import BrainstemExists, ControlPlaneError, InvalidInput, SlotFull
from controlplane.jobs import Policy, TwinJob
from controlplane.lifecycle import Status
from controlplane.naming import twin_names
from controlplane.placement import DEFAULT_MAX_RESOURCE_GROUPS, DEFAULT_MAX_TWINS_PER_REGION, Placement, candidates
from controlplane.registry import BrainstemRegistry
from controlplane.settings import Settings
from http_api.bodies import CreateRequest
from http_api.problems import Gone

PROVISION = "provision_brainstem"
TEARDOWN = "teardown_brainstem"
_KINDS = {PROVISION: "provision", TEARDOWN: "teardown"}
_TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}


class NameTaken(ControlPlaneError):
    status = 409
    type = "already-exists"
    title = "Brainstem already exists"


class QuotaExceeded(ControlPlaneError):
    status = 429
    type = "quota-exceeded"
    title = "Quota exceeded"


class PoolExhausted(ControlPlaneError):
    status = 503
    type = "capacity-exhausted"
    title = "No subscription has room"


class NotActive(ControlPlaneError):
    status = 409
    type = "not-active"
    title = "Brainstem not active"


class JobNotFound(ControlPlaneError):
    status = 404
    type = "not-found"
    title = "Not found"


@dataclass(frozen=True)
class Accepted:
    """A job the caller should poll."""

    job_id: str
    row: Brainstem


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_for(row: Brainstem, settings: Settings, *, previous_job_id: str | None = None) -> TwinJob:
    return TwinJob(
        job_id=row.job_id,
        cloud_id=row.cloud_id,
        name=row.name,
        owner=row.owner,
        region=row.region,
        runtime_target=row.runtime_target,
        deploy_ref=row.deploy_ref,
        subscription_id=row.subscription_id or settings.subscription_id,
        policy=Policy.from_settings(settings),
        previous_job_id=previous_job_id,
    )


async def _job_exists(client: df.DurableOrchestrationClient, job_id: str) -> bool:
    status = await client.get_status(job_id)
    return bool(status) and status.runtime_status is not None


def owner_slot(owner: str) -> str:
    return f"owner:{owner}"


async def create(
    request: CreateRequest,
    owner: str,
    registry: BrainstemRegistry,
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
    }
    try:
        row = _place(names.cloud_id, names.name, fields, region, quota_slots, registry, settings, existing=None)
    except BrainstemExists:
        existing = registry.get(names.cloud_id)
        if (
            existing.status == Status.PROVISIONING
            and existing.owner == owner
            and not await _job_exists(client, existing.job_id)
        ):
            row = existing  # its row was written but its job never started: start that job now
        else:
            row = _reprovision(existing, owner, fields, region, quota_slots, registry, settings)
    await client.start_new(PROVISION, row.job_id, job_for(row, settings).to_input())
    return Accepted(row.job_id, row)


def _place(
    cloud_id: str, name: str, fields: dict[str, Any], region: str | None, quota_slots: dict[str, int],
    registry: BrainstemRegistry, settings: Settings, *, existing: Brainstem | None,
) -> Brainstem:  # fmt: skip
    """Write the row in the first place of the pool with room (a new row, or a deleted one anew)."""
    full: list[SlotFull] = []
    for place in candidates(
        settings.subscription_pool, cloud_id=cloud_id, region=region, default_region=settings.default_region
    ):
        slots = {**quota_slots, **place.slots()}
        placed = {"region": place.region, "subscription_id": place.subscription_id}
        try:
            if existing is None:
                now = utc_now()
                row = Brainstem(
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
    existing: Brainstem, owner: str, fields: dict[str, Any], region: str | None, quota_slots: dict[str, int],
    registry: BrainstemRegistry, settings: Settings,
) -> Brainstem:  # fmt: skip
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


def _placement_of(row: Brainstem, settings: Settings) -> Placement:
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


def _held(row: Brainstem, wanted: dict[str, int]) -> dict[str, int]:
    """Slots the row holds that the new request does not name: kept (their limit is not re-checked)."""
    return {key: 0 for key in row.slots if key not in wanted}


WAKE_TIMEOUT_SECONDS = 60


def wake(row: Brainstem, registry: BrainstemRegistry) -> dict[str, Any]:
    """One GET of an active twin's URL (a cold app boots on it); how long it took and what it said."""
    import time

    import requests

    if row.status != Status.ACTIVE or not row.url:
        raise NotActive(
            f"{row.cloud_id} is {row.status.value}; only an active brainstem can be woken", cloud_id=row.cloud_id
        )
    started = time.monotonic()
    try:
        status: int | None = requests.get(row.url, timeout=WAKE_TIMEOUT_SECONDS, allow_redirects=False).status_code
    except requests.RequestException:
        status = None
    elapsed_ms = round((time.monotonic() - started) * 1000)
    awake = status is not None and status < 500
    if awake:
        registry.touch(row.cloud_id)
    return {"cloud_id": row.cloud_id, "url": row.url, "awake": awake, "status": status, "elapsed_ms": elapsed_ms}


def claim_for_teardown(cloud_id: str, registry: BrainstemRegistry, settings: Settings) -> tuple[TwinJob, bool]:
    """Fence the row for a teardown job; return the job and whether it still has to be started.

    A row already deleting keeps its teardown job (a second DELETE answers with it). A row still
    provisioning passes its job on, so the teardown waits for that job to stop before deleting.
    """
    row = registry.get(cloud_id)
    if row.status == Status.DELETED:
        raise Gone(f"{cloud_id} was deleted at {row.last_seen}; nothing is left to delete", cloud_id=cloud_id)
    if row.status == Status.DELETING:
        return job_for(row, settings), False
    previous = row.job_id if row.status == Status.PROVISIONING else None
    row = registry.transition(cloud_id, Status.DELETING, for_job=row.job_id, job_id=new_job_id())
    return job_for(row, settings, previous_job_id=previous), True


async def delete(
    cloud_id: str, registry: BrainstemRegistry, client: df.DurableOrchestrationClient, settings: Settings
) -> Accepted:
    job, fresh = claim_for_teardown(cloud_id, registry, settings)
    if fresh or not await _job_exists(client, job.job_id):
        await client.start_new(TEARDOWN, job.job_id, job.to_input())
    return Accepted(job.job_id, registry.get(cloud_id))


async def job_view(job_id: str, client: df.DurableOrchestrationClient) -> dict[str, Any]:
    status = await client.get_status(job_id, show_input=True)
    if not status or status.runtime_status is None or status.name not in _KINDS:
        raise JobNotFound(f"no job {job_id}", job_id=job_id)
    job_input = status.input_
    if isinstance(job_input, str):
        import json

        job_input = json.loads(job_input)
    custom = status.custom_status if isinstance(status.custom_status, dict) else None
    runtime = status.runtime_status.value
    output = status.output if runtime == "Completed" else None
    return {
        "job_id": job_id,
        "kind": _KINDS[status.name],
        "cloud_id": (job_input or {}).get("cloud_id"),
        "owner": (job_input or {}).get("owner"),
        "runtime_status": runtime,
        "step": custom.get("step") if custom else None,
        "custom_status": custom,
        "created_at": _iso(status.created_time),
        "last_updated_at": _iso(status.last_updated_time),
        "output": output if isinstance(output, dict) else None,
        "error": str(status.output) if runtime in ("Failed", "Terminated") and status.output else None,
        "done": runtime in _TERMINAL,
    }


def _iso(moment: Any) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
