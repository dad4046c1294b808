"""Accepting a teardown: fence the row (deleting) so no older job can write over it, then start the job."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df

from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import BUSY_STATUSES, Status
from controlplane.registry import TwinRegistry
from controlplane.service import soft_delete
from controlplane.service.errors import Gone, NotActive
from controlplane.service.jobs import TEARDOWN, Accepted, job_exists, new_job_id
from controlplane.settings import Settings
from controlplane.workflows import durable_calls
from controlplane.workflows.job_inputs import job_for


def claim_for_teardown(cloud_id: str, registry: TwinRegistry, settings: Settings) -> tuple[TwinJob, bool]:
    """Fence the row for a teardown job; return the job and whether it still has to be started.

    A row already deleting keeps its teardown job (a second DELETE answers with it). A row still
    provisioning passes its job on, so the teardown waits for that job to stop before deleting.
    """
    row = registry.get(cloud_id)
    if row.status == Status.DELETED:
        raise Gone(f"{cloud_id} was deleted at {row.last_seen}; nothing is left to delete", cloud_id=cloud_id)
    if row.status == Status.DELETING:
        return job_for(row, settings), False
    if row.delete_at is not None:  # pending delete: its teardown job is already waiting out the grace
        return job_for(row, settings), False
    previous = row.job_id if row.status in BUSY_STATUSES else None
    row = registry.transition(cloud_id, Status.DELETING, for_job=row.job_id, job_id=new_job_id())
    return job_for(row, settings, previous_job_id=previous), True


async def delete(
    cloud_id: str, registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings
) -> Accepted:
    """Delete a twin: after the grace period when it is at rest (controlplane.service.soft_delete), else now."""
    row = await asyncio.to_thread(registry.get, cloud_id)
    if row.delete_at is not None or (settings.delete_grace_seconds > 0 and row.status in soft_delete.AT_REST):
        try:
            return await soft_delete.begin_pending_delete(cloud_id, registry, client, settings)
        except NotActive:  # a job took the twin over meanwhile: tear it down as a busy twin
            pass
    job, fresh = await asyncio.to_thread(claim_for_teardown, cloud_id, registry, settings)  # off the event loop
    if fresh or not await job_exists(client, job.job_id):
        await durable_calls.start_new(client, TEARDOWN, job.job_id, job.to_input())
    return Accepted(job.job_id, await asyncio.to_thread(registry.get, cloud_id))
