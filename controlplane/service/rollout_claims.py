"""Claiming a rollout's twins and starting their updates, side by side; each claim recorded on the rollout.

A twin's update job id is derived from the rollout, the wave and the twin, so a repeated claim (an
activity Durable ran again) is recognised as the same one and starts nothing twice.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import azure.durable_functions as df

from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.jobs import TwinJob
from controlplane.domain.rollouts import RolloutSpec
from controlplane.registry import TwinRegistry
from controlplane.service.errors import TwinHeld
from controlplane.service.jobs import UPDATE
from controlplane.service.updates import claim_for_update
from controlplane.settings import Settings
from controlplane.workflows import durable_calls

_JOB_NAMESPACE = uuid.UUID("6f1d3c2e-9a57-4c1b-8e0e-2b7c1f4d5a60")
_CLAIM_THREADS = 16


def update_job_id(rollout_id: str, wave: int, cloud_id: str, purpose: str = "update") -> str:
    return uuid.uuid5(_JOB_NAMESPACE, f"{rollout_id}/{wave}/{cloud_id}/{purpose}").hex


async def claim_and_start_all(
    spec: RolloutSpec, wave: int, batch: int, twins: list[tuple[str, str]],
    registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings,
) -> list[tuple[TwinJob | None, bool]]:  # fmt: skip
    """Claim each twin and start its update; per twin (its job or None when skipped, record changed?).

    ``twins`` are (cloud_id, origin); the origin is kept on the twin's record: "walk" (taken from
    the selection by this batch) or "queue" (taken by its wave earlier, and waiting in its
    subscription's queue for a free place in that subscription's window).
    """
    gate = asyncio.Semaphore(_CLAIM_THREADS)
    loop = asyncio.get_running_loop()

    with ThreadPoolExecutor(_CLAIM_THREADS) as executor:  # Table Storage is synchronous: off the event loop

        async def claim_and_start(cloud_id: str, origin: str) -> tuple[TwinJob | None, bool]:
            async with gate:
                job, fresh, changed = await loop.run_in_executor(
                    executor, _claim, spec, wave, batch, cloud_id, origin, registry, settings
                )
                if job is not None and (fresh or not await exists(client, job.job_id)):
                    await durable_calls.start_new(client, UPDATE, job.job_id, job.to_input())
                return job, changed

        # Every twin's attempt ends before the batch answers (a failure is raised once all have, so no
        # claim is left running after its executor has shut down); a repeated batch redoes the rest.
        outcomes = await asyncio.gather(*(claim_and_start(*twin) for twin in twins), return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        raise failures[0]
    return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]


def _claim(
    spec: RolloutSpec, wave: int, batch: int, cloud_id: str, origin: str, registry: TwinRegistry,
    settings: Settings,
) -> tuple[TwinJob | None, bool, bool]:  # fmt: skip
    """Claim one twin for the rollout and record it: (its job or None when skipped, job to start?, record changed?)."""
    job_id = update_job_id(spec.rollout_id, wave, cloud_id)
    record = registry.rollouts.record_twin
    try:
        job, fresh = claim_for_update(
            cloud_id, spec.deploy_ref, registry, settings, job_id=job_id, app_settings=spec.app_settings
        )
    except TwinHeld as exc:  # pinned by its owner or an operator: passed by, and counted as held at once
        record(spec.rollout_id, wave, cloud_id, "held", batch=batch, origin=origin, reason=exc.detail)
        return None, False, False
    except ControlPlaneError as exc:  # taken by another update, a teardown, or gone
        changed = record(
            spec.rollout_id, wave, cloud_id, "skipped", count=False, batch=batch, origin=origin, reason=exc.detail
        )
        return None, False, changed
    job = replace(job, arm_lane="bulk")  # a rollout's updates queue behind single-twin work, not before it
    changed = record(
        spec.rollout_id, wave, cloud_id, "started", count=False, batch=batch, origin=origin, job_id=job_id,
        subscription_id=job.subscription_id, previous_deploy_ref=job.previous_deploy_ref,
        previous_app_settings=job.previous_app_settings or {},
    )  # fmt: skip
    return job, fresh, changed


async def exists(client: df.DurableOrchestrationClient, job_id: str) -> bool:
    status = await durable_calls.get_status(client, job_id)
    return bool(status) and status.runtime_status is not None
