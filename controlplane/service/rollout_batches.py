"""What a rollout's activities decide: which twins join a wave, and how each twin's update ended.

A wave's ``parallelism`` is a window per subscription (controlplane.registry.rollout_windows):
a batch walks the selection in cloud_id order and starts each twin whose subscription has a
free place, and queues the others in their subscription's queue, which later batches drain
first. So one subscription's slow or numerous twins never hold back another's.

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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import azure.durable_functions as df

from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.lifecycle import Status
from controlplane.domain.rollouts import RolloutSpec
from controlplane.registry import TwinRegistry, encode_token
from controlplane.registry.rollouts import counter_moves
from controlplane.service.jobs import UPDATE
from controlplane.service.rollout_claims import claim_and_start_all, exists, update_job_id
from controlplane.service.updates import claim_for_update
from controlplane.settings import Settings
from controlplane.workflows import durable_calls

logger = logging.getLogger(__name__)
_ENDED = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
_STATUS_READS_AT_ONCE = 32
_QUEUE_THREADS = 16
# Selection rows one batch walks at most: the walk queues the twins whose subscription's window is
# full (a few Table writes each, side by side), so a look stays short however large its wave; the
# next look walks on.
WALK_ROWS = 2000
_PASSED_BY = frozenset({"skipped", "held"})
__all__ = ["collect_outcomes", "start_batch", "start_rollback_batch", "update_job_id"]


async def start_batch(
    spec: RolloutSpec, wave: int, batch: int, cursor: str | None, wanted: int,
    registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """Fill every subscription's window in the wave: its queued twins first, then up to ``wanted``
    more twins from the selection after ``cursor``, each started where its subscription has a free
    place and queued where it has none. Answers what the batch did, read back from its records.

    ``took``: how many places in the wave the batch filled (walked twins started or queued, less
    queued twins that turned out held or taken); ``queued``: whether any twin still waits.
    A repeated attempt of the same batch (Durable delivers at least once) finds the twins the earlier
    attempt recorded under the batch and walks on after the last of them, so the batch ends up the
    same whichever attempt finishes it. (Those twins are no longer ``active``: listing again would skip them.)
    """
    rollouts, window = registry.rollouts.windows, spec.waves.parallelism
    running = rollouts.running(spec.rollout_id, wave, "started")
    earlier = registry.rollouts.batch_twins(spec.rollout_id, wave, batch)
    walked = {twin["cloud_id"] for twin in earlier if twin["origin"] != "queue"}

    # Each subscription's free places, from its own queue: twins the wave took while its window was full.
    waiting: list[tuple[str, str]] = []
    for subscription in rollouts.queue_subscriptions(spec.rollout_id, wave):
        for cloud_id in rollouts.queued(spec.rollout_id, wave, subscription, limit=window - running[subscription]):
            waiting.append((cloud_id, subscription))
    await _start(spec, wave, batch, waiting, walked, running, registry, client, settings)

    took = _took(earlier)
    if walked:
        cursor = encode_token(spec.selector.owner or "*", max(walked))
    exhausted, rows = False, 0
    while took < wanted and rows < WALK_ROWS:
        page = _selection_page(spec, registry, cursor, min(1000, wanted - took, WALK_ROWS - rows))
        rows += len(page.items)
        now: list[tuple[str, str]] = []
        later: list[tuple[str, str]] = []
        for row in page.items:
            subscription = row.subscription_id or settings.subscription_id
            if running[subscription] < window:
                now.append((row.cloud_id, subscription))
                running[subscription] += 1
            else:
                later.append((row.cloud_id, subscription))
        started = await _start(
            spec, wave, batch, now, {row.cloud_id for row in page.items}, running, registry, client, settings
        )
        await asyncio.to_thread(_queue, spec, wave, batch, later, registry)
        took += started + len(later)
        cursor = page.next
        if cursor is None:
            exhausted = True
            break
    mine = registry.rollouts.batch_twins(spec.rollout_id, wave, batch)
    return {
        "started": sum(1 for twin in mine if twin["state"] == "started"),
        "took": _took(mine),
        "cursor": cursor,
        "exhausted": exhausted,
        "queued": rollouts.any_queued(spec.rollout_id, wave),
    }


def _took(twins: list[dict[str, Any]]) -> int:
    """The places in the wave a batch's twins filled: walked and not passed by, less queued ones passed by."""
    walked = sum(1 for twin in twins if twin["origin"] != "queue" and twin["state"] not in _PASSED_BY)
    return walked - sum(1 for twin in twins if twin["origin"] == "queue" and twin["state"] in _PASSED_BY)


def _selection_page(spec: RolloutSpec, registry: TwinRegistry, cursor: str | None, limit: int) -> Any:
    selector = spec.selector
    return registry.list(
        owner=selector.owner, region=selector.region, runtime_target=selector.runtime_target,
        deploy_ref=selector.deploy_ref, not_deploy_ref=spec.deploy_ref, status=Status.ACTIVE,
        limit=limit, next=cursor,
    )  # fmt: skip


async def _start(
    spec: RolloutSpec, wave: int, batch: int, twins: list[tuple[str, str]], walked: set[str],
    running: Counter[str], registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> int:  # fmt: skip
    """Claim and start ``twins`` (cloud_id, subscription); how many started. A twin passed by gives its
    place in ``running`` back. A twin in ``walked`` was taken from the selection by this batch."""
    if not twins:
        return 0
    # Each twin is claimed, then its update started at once, side by side with the others: the first
    # updates begin one claim's latency after the look, not after the whole page is claimed.
    origins = [(cloud_id, "walk" if cloud_id in walked else "queue") for cloud_id, _ in twins]
    claims = await claim_and_start_all(spec, wave, batch, origins, registry, client, settings)
    moves = {"selected": 0, "skipped": 0}
    for (_, subscription), (job, changed) in zip(twins, claims, strict=True):
        if job is None:
            running[subscription] -= 1
        moves["skipped" if job is None else "selected"] += changed
    registry.rollouts.add_counts(spec.rollout_id, wave, moves)
    return sum(1 for job, _ in claims if job is not None)


def _queue(spec: RolloutSpec, wave: int, batch: int, twins: list[tuple[str, str]], registry: TwinRegistry) -> None:
    """Record ``twins`` (cloud_id, subscription) as taken by the wave, waiting in their subscription's queue."""
    for subscription in sorted({subscription for _, subscription in twins}):
        registry.rollouts.windows.note_queue(spec.rollout_id, wave, subscription)

    def record(twin: tuple[str, str]) -> None:
        registry.rollouts.record_twin(
            spec.rollout_id, wave, twin[0], "queued", count=False, batch=batch, origin="walk", subscription_id=twin[1]
        )

    with ThreadPoolExecutor(_QUEUE_THREADS) as executor:
        list(executor.map(record, twins))


async def start_rollback_batch(
    spec: RolloutSpec, wave: int, window: int,
    registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """Move the wave's updated twins back to the deploy_ref (and settings) each had before, up to
    ``window`` at once in each subscription (the wave's window: the twins rolling back hold its places)."""
    started = 0
    running = registry.rollouts.windows.running(spec.rollout_id, wave, "rolling_back")
    fields = ("previous_deploy_ref", "previous_app_settings", "subscription_id")
    updated = itertools.chain(  # what the wave moved: twins that succeeded, and those that then failed their bake
        registry.rollouts.twins(spec.rollout_id, wave=wave, state="succeeded", fields=fields),
        registry.rollouts.twins(spec.rollout_id, wave=wave, state="bake_failed", fields=fields),
    )
    for twin in updated:
        subscription = str(twin.get("subscription_id") or "")
        if running[subscription] >= window:
            continue
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
        if fresh or not await exists(client, job_id):
            await durable_calls.start_new(client, UPDATE, job_id, job.to_input())
        running[subscription] += 1
        started += 1
    return {"started": started}


def _restoring(registry: TwinRegistry, cloud_id: str, previous_text: str | None) -> dict[str, str | None] | None:
    """The settings changes that put back what the twin had before the rollout (None: nothing to change)."""
    previous: dict[str, str] = json.loads(previous_text) if previous_text else {}
    current = registry.get(cloud_id).app_settings or {}
    changes: dict[str, str | None] = {name: None for name in current if name not in previous}
    changes.update({name: value for name, value in previous.items() if current.get(name) != value})
    return changes or None


async def collect_outcomes(
    spec: RolloutSpec, wave: int, registry: TwinRegistry, client: df.DurableOrchestrationClient,
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
    cloud_id: str, deploy_ref: str | None, job_id: str, registry: TwinRegistry,
    client: df.DurableOrchestrationClient, settings: Settings,
) -> None:  # fmt: skip
    try:
        job, _ = claim_for_update(cloud_id, deploy_ref, registry, settings, job_id=job_id)
    except ControlPlaneError as exc:  # the twin moved on (a teardown took it): nothing to start
        logger.info("rollout job %s for %s cannot start: %s", job_id, cloud_id, exc.detail)
        return
    await durable_calls.start_new(client, UPDATE, job_id, job.to_input())


def _failure(registry: TwinRegistry, cloud_id: str, status: Any) -> dict[str, Any]:
    """Why a twin's update failed: the error its row records (step, ARM code, message), else Durable's."""
    try:
        recorded = registry.get(cloud_id).error
    except ControlPlaneError:
        recorded = None
    return recorded or {"code": status.runtime_status.value, "message": str(status.output)[:500]}
