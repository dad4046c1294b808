"""What a rollout's activities decide: which twins join a wave, and how each twin's update ended.

Every step is safe to repeat (Durable runs activities at least once): a twin's update job id is
derived from the rollout, the wave and the twin, so a repeated claim is recognised as the same
one; the outcome of each job is read back from Durable and the registry, never remembered in
memory; the orchestration carries only counters and a cursor.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import azure.durable_functions as df

from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.lifecycle import Status
from controlplane.domain.rollouts import RolloutSpec
from controlplane.registry import BrainstemRegistry, encode_token
from controlplane.service.jobs import UPDATE
from controlplane.service.updates import claim_for_update
from controlplane.settings import Settings

logger = logging.getLogger(__name__)
_JOB_NAMESPACE = uuid.UUID("6f1d3c2e-9a57-4c1b-8e0e-2b7c1f4d5a60")
_ENDED = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


def update_job_id(rollout_id: str, wave: int, cloud_id: str, purpose: str = "update") -> str:
    return uuid.uuid5(_JOB_NAMESPACE, f"{rollout_id}/{wave}/{cloud_id}/{purpose}").hex


async def start_batch(
    spec: RolloutSpec, wave: int, batch: int, cursor: str | None, wanted: int,
    registry: BrainstemRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """Start updates for up to ``wanted`` more selected twins after ``cursor``; the new cursor and counts.

    A repeated attempt of the same batch (Durable delivers at least once) takes the twins the earlier
    attempt already recorded and goes on after the last of them, so the batch ends up the same
    whichever attempt finishes it. (Those twins are ``updating`` now: listing again would skip them.)
    """
    selector = spec.selector
    earlier = registry.rollouts.batch_twins(spec.rollout_id, wave, batch)
    started = sum(1 for twin in earlier if twin["state"] != "skipped")
    skipped = len(earlier) - started
    if earlier:
        cursor = encode_token(selector.owner or "*", max(twin["cloud_id"] for twin in earlier))
    while started < wanted:
        page = registry.list(
            owner=selector.owner, region=selector.region, runtime_target=selector.runtime_target,
            deploy_ref=selector.deploy_ref, not_deploy_ref=spec.deploy_ref, status=Status.ACTIVE,
            limit=min(1000, wanted - started), next=cursor,
        )  # fmt: skip
        for row in page.items:
            job_id = update_job_id(spec.rollout_id, wave, row.cloud_id)
            try:
                job, fresh = claim_for_update(row.cloud_id, spec.deploy_ref, registry, settings, job_id=job_id)
            except ControlPlaneError as exc:  # taken by another update, a teardown, or gone
                registry.rollouts.record_twin(
                    spec.rollout_id, wave, row.cloud_id, "skipped", batch=batch, reason=exc.detail
                )
                skipped += 1
                continue
            registry.rollouts.record_twin(
                spec.rollout_id,
                wave,
                row.cloud_id,
                "started",
                batch=batch,
                job_id=job_id,
                previous_deploy_ref=job.previous_deploy_ref,
            )
            if fresh or not await _exists(client, job_id):
                await client.start_new(UPDATE, job_id, job.to_input())
            started += 1
        cursor = page.next
        if cursor is None:
            return {"started": started, "skipped": skipped, "cursor": None, "exhausted": True}
    return {"started": started, "skipped": skipped, "cursor": cursor, "exhausted": False}


async def start_rollback_batch(
    spec: RolloutSpec, wave: int, wanted: int,
    registry: BrainstemRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """Move up to ``wanted`` of the wave's updated twins back to the deploy_ref each ran before."""
    started = 0
    for twin in registry.rollouts.twins(spec.rollout_id, wave=wave, state="succeeded"):
        if started >= wanted:
            break
        job_id = update_job_id(spec.rollout_id, wave, twin["cloud_id"], "rollback")
        previous = twin.get("previous_deploy_ref")
        try:
            job, fresh = claim_for_update(twin["cloud_id"], previous, registry, settings, job_id=job_id)
        except ControlPlaneError as exc:
            registry.rollouts.record_twin(
                spec.rollout_id, wave, twin["cloud_id"], "rollback_skipped", reason=exc.detail
            )
            continue
        registry.rollouts.record_twin(spec.rollout_id, wave, twin["cloud_id"], "rolling_back", rollback_job_id=job_id)
        if fresh or not await _exists(client, job_id):
            await client.start_new(UPDATE, job_id, job.to_input())
        started += 1
    return {"started": started}


async def collect_outcomes(
    spec: RolloutSpec, wave: int, registry: BrainstemRegistry, client: df.DurableOrchestrationClient,
    settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """Record the end of every running update (and rollback) of the wave; how many still run, and the counters.

    A twin recorded as started whose job Durable does not know was claimed by an attempt that died
    before starting it: its job is started now (the claim is idempotent for the same job id).
    """
    rollout_id = spec.rollout_id
    running = 0
    for state, job_field, ok, bad in (
        ("started", "job_id", "succeeded", "failed"),
        ("rolling_back", "rollback_job_id", "rolled_back", "rollback_failed"),
    ):
        fields = (job_field, "previous_deploy_ref")
        for twin in registry.rollouts.twins(rollout_id, wave=wave, state=state, fields=fields):
            status = await client.get_status(twin[job_field])
            runtime = status.runtime_status.value if status and status.runtime_status else "NotFound"
            if runtime == "NotFound":
                ref = spec.deploy_ref if state == "started" else twin.get("previous_deploy_ref")
                await _start_claimed(twin["cloud_id"], ref, twin[job_field], registry, client, settings)
            if runtime not in _ENDED:
                running += 1
                continue
            if runtime == "Completed":
                registry.rollouts.record_twin(rollout_id, wave, twin["cloud_id"], ok)
            else:
                error = _row_error(registry, twin["cloud_id"]) or {"code": runtime, "message": str(status.output)[:500]}
                registry.rollouts.record_twin(rollout_id, wave, twin["cloud_id"], bad, error=error)
    record = registry.rollouts.get(rollout_id)
    counters = record["waves"][wave] if wave < len(record["waves"]) else {}
    return {"running": running, "counters": counters, "control": record["control"]}


async def _start_claimed(
    cloud_id: str, deploy_ref: str | None, job_id: str, registry: BrainstemRegistry,
    client: df.DurableOrchestrationClient, settings: Settings,
) -> None:  # fmt: skip
    try:
        job, _ = claim_for_update(cloud_id, deploy_ref, registry, settings, job_id=job_id)
    except ControlPlaneError as exc:  # the twin moved on (a teardown took it): nothing to start
        logger.info("rollout job %s for %s cannot start: %s", job_id, cloud_id, exc.detail)
        return
    await client.start_new(UPDATE, job_id, job.to_input())


def _row_error(registry: BrainstemRegistry, cloud_id: str) -> dict[str, Any] | None:
    try:
        return registry.get(cloud_id).error
    except ControlPlaneError:
        return None


async def _exists(client: df.DurableOrchestrationClient, job_id: str) -> bool:
    status = await client.get_status(job_id)
    return bool(status) and status.runtime_status is not None
