"""What a rollout's activities decide: which twins join a wave, and how each twin's update ended.

Every step is safe to repeat (Durable runs activities at least once): a twin's update job id is
derived from the rollout, the wave and the twin, so a repeated claim is recognised as the same
one; the outcome of each job is read back from Durable and the registry, never remembered in
memory; the orchestration carries only counters and a cursor.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import azure.durable_functions as df

from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.rollouts import RolloutSpec
from controlplane.registry import BrainstemRegistry, encode_token
from controlplane.registry.rollouts import counter_moves
from controlplane.service.errors import TwinHeld
from controlplane.service.jobs import UPDATE
from controlplane.service.updates import claim_for_update
from controlplane.settings import Settings
from controlplane.workflows import durable_calls

logger = logging.getLogger(__name__)
_JOB_NAMESPACE = uuid.UUID("6f1d3c2e-9a57-4c1b-8e0e-2b7c1f4d5a60")
_ENDED = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
_CLAIM_THREADS = 16
_STATUS_READS_AT_ONCE = 32


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
    started = sum(1 for twin in earlier if twin["state"] not in ("skipped", "held"))
    skipped = len(earlier) - started
    if earlier:
        cursor = encode_token(selector.owner or "*", max(twin["cloud_id"] for twin in earlier))
    while started < wanted:
        page = registry.list(
            owner=selector.owner, region=selector.region, runtime_target=selector.runtime_target,
            deploy_ref=selector.deploy_ref, not_deploy_ref=spec.deploy_ref, status=Status.ACTIVE,
            limit=min(1000, wanted - started), next=cursor,
        )  # fmt: skip
        # Each twin is claimed, then its update started at once, side by side with the others (at most
        # _CLAIM_THREADS at a time): the first updates begin one claim's latency after the look, not
        # after the whole page is claimed, and the wave's gate costs a round or two, not a queue.
        claims = await _claim_and_start_all(spec, wave, batch, page.items, registry, client, settings)
        moves = {"selected": 0, "skipped": 0}
        for job, changed in claims:
            if job is None:
                skipped += 1
                moves["skipped"] += changed
                continue
            started += 1
            moves["selected"] += changed
        registry.rollouts.add_counts(spec.rollout_id, wave, moves)
        cursor = page.next
        if cursor is None:
            return {"started": started, "skipped": skipped, "cursor": None, "exhausted": True}
    return {"started": started, "skipped": skipped, "cursor": cursor, "exhausted": False}


async def _claim_and_start_all(
    spec: RolloutSpec, wave: int, batch: int, rows: list[Any],
    registry: BrainstemRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> list[tuple[BrainstemJob | None, bool]]:  # fmt: skip
    """Claim each row's twin and start its update; per twin (its job or None when skipped, record changed?)."""
    gate = asyncio.Semaphore(_CLAIM_THREADS)
    loop = asyncio.get_running_loop()

    with ThreadPoolExecutor(_CLAIM_THREADS) as executor:  # Table Storage is synchronous: off the event loop

        async def claim_and_start(cloud_id: str) -> tuple[BrainstemJob | None, bool]:
            async with gate:
                job, fresh, changed = await loop.run_in_executor(
                    executor, _claim, spec, wave, batch, cloud_id, registry, settings
                )
                if job is not None and (fresh or not await _exists(client, job.job_id)):
                    await durable_calls.start_new(client, UPDATE, job.job_id, job.to_input())
                return job, changed

        # Every twin's attempt ends before the batch answers (a failure is raised once all have, so no
        # claim is left running after its executor has shut down); a repeated batch redoes the rest.
        outcomes = await asyncio.gather(*(claim_and_start(row.cloud_id) for row in rows), return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        raise failures[0]
    return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]


def _claim(
    spec: RolloutSpec, wave: int, batch: int, cloud_id: str, registry: BrainstemRegistry, settings: Settings
) -> tuple[BrainstemJob | None, bool, bool]:
    """Claim one twin for the rollout and record it: (its job or None when skipped, job to start?, record changed?)."""
    job_id = update_job_id(spec.rollout_id, wave, cloud_id)
    try:
        job, fresh = claim_for_update(
            cloud_id, spec.deploy_ref, registry, settings, job_id=job_id, app_settings=spec.app_settings
        )
    except TwinHeld as exc:  # pinned by its owner or an operator: passed by, and counted as held at once
        registry.rollouts.record_twin(spec.rollout_id, wave, cloud_id, "held", batch=batch, reason=exc.detail)
        return None, False, False
    except ControlPlaneError as exc:  # taken by another update, a teardown, or gone
        changed = registry.rollouts.record_twin(
            spec.rollout_id, wave, cloud_id, "skipped", count=False, batch=batch, reason=exc.detail
        )
        return None, False, changed
    job = replace(job, arm_lane="bulk")  # a rollout's updates queue behind single-twin work, not before it
    changed = registry.rollouts.record_twin(
        spec.rollout_id, wave, cloud_id, "started", count=False, batch=batch, job_id=job_id,
        previous_deploy_ref=job.previous_deploy_ref, previous_app_settings=job.previous_app_settings or {},
    )  # fmt: skip
    return job, fresh, changed


async def start_rollback_batch(
    spec: RolloutSpec, wave: int, wanted: int,
    registry: BrainstemRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """Move up to ``wanted`` of the wave's updated twins back to the deploy_ref (and settings) each had before."""
    started = 0
    fields = ("previous_deploy_ref", "previous_app_settings")
    updated = itertools.chain(  # what the wave moved: twins that succeeded, and those that then failed their bake
        registry.rollouts.twins(spec.rollout_id, wave=wave, state="succeeded", fields=fields),
        registry.rollouts.twins(spec.rollout_id, wave=wave, state="bake_failed", fields=fields),
    )
    for twin in updated:
        if started >= wanted:
            break
        job_id = update_job_id(spec.rollout_id, wave, twin["cloud_id"], "rollback")
        previous = twin.get("previous_deploy_ref")
        try:  # a twin deleted since it was updated has nothing to move back: skipped, not a failed activity
            restore = _restoring(registry, twin["cloud_id"], twin.get("previous_app_settings"))
            job, fresh = claim_for_update(
                twin["cloud_id"], previous, registry, settings, job_id=job_id, app_settings=restore
            )
        except ControlPlaneError as exc:
            registry.rollouts.record_twin(
                spec.rollout_id, wave, twin["cloud_id"], "rollback_skipped", reason=exc.detail
            )
            continue
        job = replace(job, arm_lane="bulk")
        registry.rollouts.record_twin(spec.rollout_id, wave, twin["cloud_id"], "rolling_back", rollback_job_id=job_id)
        if fresh or not await _exists(client, job_id):
            await durable_calls.start_new(client, UPDATE, job_id, job.to_input())
        started += 1
    return {"started": started}


def _restoring(registry: BrainstemRegistry, cloud_id: str, previous_text: str | None) -> dict[str, str | None] | None:
    """The settings changes that put back what the twin had before the rollout (None: nothing to change)."""
    previous: dict[str, str] = json.loads(previous_text) if previous_text else {}
    current = registry.get(cloud_id).app_settings or {}
    changes: dict[str, str | None] = {name: None for name in current if name not in previous}
    changes.update({name: value for name, value in previous.items() if current.get(name) != value})
    return changes or None


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
    moves: dict[str, int] = {}
    for state, job_field, ok, bad in (
        ("started", "job_id", "succeeded", "failed"),
        ("rolling_back", "rollback_job_id", "rolled_back", "rollback_failed"),
    ):
        fields = (job_field, "previous_deploy_ref")
        twins = list(registry.rollouts.twins(rollout_id, wave=wave, state=state, fields=fields))
        # One status read per running twin: made side by side (bounded), they cost a round trip or
        # two per look, not one per twin — a look must stay short next to the updates it watches.
        statuses = await _statuses(client, [twin[job_field] for twin in twins])
        for twin, status in zip(twins, statuses, strict=True):
            runtime = status.runtime_status.value if status and status.runtime_status else "NotFound"
            if runtime == "NotFound":
                ref = spec.deploy_ref if state == "started" else twin.get("previous_deploy_ref")
                await _start_claimed(twin["cloud_id"], ref, twin[job_field], registry, client, settings)
            if runtime not in _ENDED:
                running += 1
                continue
            outcome, error = (
                (ok, None) if runtime == "Completed" else (bad, _failure(registry, twin["cloud_id"], status))
            )
            if registry.rollouts.record_twin(rollout_id, wave, twin["cloud_id"], outcome, count=False, error=error):
                for counter, amount in counter_moves(outcome).items():
                    moves[counter] = moves.get(counter, 0) + amount
    registry.rollouts.add_counts(rollout_id, wave, moves)
    record = registry.rollouts.get(rollout_id)
    counters = record["waves"][wave] if wave < len(record["waves"]) else {}
    return {"running": running, "counters": counters, "control": record["control"]}


async def _statuses(client: df.DurableOrchestrationClient, job_ids: list[str]) -> list[Any]:
    gate = asyncio.Semaphore(_STATUS_READS_AT_ONCE)

    async def read(job_id: str) -> Any:
        async with gate:
            return await durable_calls.get_status(client, job_id)

    return list(await asyncio.gather(*(read(job_id) for job_id in job_ids)))


async def _start_claimed(
    cloud_id: str, deploy_ref: str | None, job_id: str, registry: BrainstemRegistry,
    client: df.DurableOrchestrationClient, settings: Settings,
) -> None:  # fmt: skip
    try:
        job, _ = claim_for_update(cloud_id, deploy_ref, registry, settings, job_id=job_id)
    except ControlPlaneError as exc:  # the twin moved on (a teardown took it): nothing to start
        logger.info("rollout job %s for %s cannot start: %s", job_id, cloud_id, exc.detail)
        return
    await durable_calls.start_new(client, UPDATE, job_id, job.to_input())


def _failure(registry: BrainstemRegistry, cloud_id: str, status: Any) -> dict[str, Any]:
    """Why a twin's update failed: the error its row records (step, ARM code, message), else Durable's."""
    try:
        recorded = registry.get(cloud_id).error
    except ControlPlaneError:
        recorded = None
    return recorded or {"code": status.runtime_status.value, "message": str(status.output)[:500]}


async def _exists(client: df.DurableOrchestrationClient, job_id: str) -> bool:
    status = await durable_calls.get_status(client, job_id)
    return bool(status) and status.runtime_status is not None
