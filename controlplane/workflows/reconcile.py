"""Starting the level-triggered loops, and the one repair that needs Durable's own view: lost jobs.

A row that says a job is changing the twin (provisioning, updating, deleting) while no such job runs
is stuck for good: nothing will ever move it. That happens when the create wrote its row but could
not start its orchestration (storage failing between the two), or when a job ended without its last
write. The reconcile finds such rows, a page of the fleet per activity (``fail_lost_jobs_page``; the
timer itself only starts the workflow), and marks them errored with why (``JobLost``), so their
owner can POST again or delete them; their places stay held until then, as for any errored twin.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.json_records import JsonObject
from controlplane.domain.lifecycle import Status
from controlplane.domain.loop_messages import HeartbeatState, ReconcileInput
from controlplane.domain.twin import Twin, timestamp
from controlplane.registry import TwinRegistry
from controlplane.settings import Settings
from controlplane.workflows import durable_calls
from controlplane.workflows.job_inputs import job_policy

logger = logging.getLogger(__name__)

RECONCILE_INSTANCE = "reconcile-fleet"
HEARTBEAT_INSTANCE = "heartbeat-sweep"
_UNDERWAY = {
    df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending,
    df.OrchestrationRuntimeStatus.ContinuedAsNew, df.OrchestrationRuntimeStatus.Suspended,
}  # fmt: skip
_BUSY = frozenset({Status.PROVISIONING, Status.UPDATING, Status.DELETING})


async def start_singleton(client: df.DurableOrchestrationClient, name: str, instance_id: str, payload: Any) -> bool:
    """Start ``name`` as ``instance_id`` unless that instance is still underway (Learn: "Singleton
    orchestrators in Durable Functions": check the status, start with the fixed id only if not running)."""
    status = await durable_calls.get_status(client, instance_id)
    if status is not None and status.runtime_status in _UNDERWAY:
        logger.info("%s is still underway; this occurrence starts nothing", instance_id)
        return False
    await durable_calls.start_new(client, name, instance_id, payload)
    return True


def reconcile_input(settings: Settings) -> JsonObject:
    subscriptions = sorted({place.subscription_id for place in settings.subscription_pool})
    return ReconcileInput(subscriptions, settings.reconcile_grace_seconds, job_policy(settings)).to_json()


def heartbeat_input(settings: Settings) -> JsonObject:
    return HeartbeatState(job_policy(settings)).to_json()


async def fail_lost_jobs(
    registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings,
    rows: list[Twin], *, now: datetime | None = None,
) -> list[str]:  # fmt: skip
    """Of ``rows`` (one page of the fleet), mark errored every busy row whose job is over, or has not
    existed for ``reconcile_lost_job_seconds``; Durable is asked only about busy rows quiet past the grace."""
    now = now or datetime.now(UTC)
    quiet_since = timestamp(now - timedelta(seconds=settings.reconcile_grace_seconds))
    absent_since = timestamp(now - timedelta(seconds=settings.reconcile_lost_job_seconds))
    failed: list[str] = []
    for row in rows:
        if row.status not in _BUSY or row.last_seen >= quiet_since:
            continue
        status = await durable_calls.get_status(client, row.job_id)
        runtime = status.runtime_status if status is not None else None
        if runtime in _UNDERWAY or (runtime is None and row.last_seen >= absent_since):
            continue
        why = f"its job {row.job_id} is {runtime.value if runtime else 'not known to Durable'}"
        error = {"step": "reconcile", "code": "JobLost", "message": f"{row.cloud_id} was {row.status.value} but {why}"}
        try:
            await asyncio.to_thread(registry.transition, row.cloud_id, Status.ERRORED, for_job=row.job_id, error=error)
        except ControlPlaneError as moved:  # the row moved on meanwhile: the live write wins
            logger.info("left %s alone: %s", row.cloud_id, moved)
            continue
        logger.warning("%s", error["message"])
        failed.append(row.cloud_id)
    return failed
