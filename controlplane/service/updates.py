"""Accepting an update of one twin: fence the row (``updating``) for the job, then start it.

The fence is what keeps two updates (a PATCH and a rollout, or two rollouts) off the same twin at
once: only an ``active`` row can be claimed, under its ETag, and the losing claimant is told which
job holds the twin. A claim with the job id it already holds is idempotent (a retried activity of
a rollout, or a repeated PATCH whose job never started).
"""

from __future__ import annotations

import re
from dataclasses import replace

import azure.durable_functions as df

from controlplane.domain.brainstem import Brainstem
from controlplane.domain.errors import InvalidInput
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.lifecycle import Status
from controlplane.registry import BrainstemRegistry
from controlplane.service.errors import NameTaken, NotActive
from controlplane.service.jobs import UPDATE, Accepted, job_exists, job_for, new_job_id
from controlplane.settings import Settings

DEPLOY_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def validate_deploy_ref(value: object, field: str = "deploy_ref") -> str:
    if not isinstance(value, str) or not DEPLOY_REF.fullmatch(value):
        raise InvalidInput(
            field, f"{field} must be 1-64 letters, digits, '.', '_' or '-' (a git sha, tag or bundle hash)"
        )
    return value


def claim_for_update(
    cloud_id: str, deploy_ref: str | None, registry: BrainstemRegistry, settings: Settings, *, job_id: str | None = None
) -> tuple[BrainstemJob, bool]:
    """Move an active row to ``updating`` for a new job; return the job and whether it must still be started.

    ``deploy_ref`` None re-publishes the current version with the operator's current settings.
    """
    row = registry.get(cloud_id)
    if row.status == Status.UPDATING and job_id is not None and row.job_id == job_id:
        return _job(row, settings), False
    if row.status == Status.UPDATING:
        raise NameTaken(
            f"{cloud_id} is already updating (job {row.job_id}); poll that job first",
            cloud_id=cloud_id,
            job_id=row.job_id,
        )
    if row.status != Status.ACTIVE:
        raise NotActive(f"{cloud_id} is {row.status.value}; only an active brainstem can be updated", cloud_id=cloud_id)
    target = deploy_ref or row.deploy_ref
    row = registry.transition(
        cloud_id, Status.UPDATING, for_job=row.job_id, job_id=job_id or new_job_id(), target_deploy_ref=target
    )
    return _job(row, settings), True


def _job(row: Brainstem, settings: Settings) -> BrainstemJob:
    job = job_for(row, settings)
    return replace(job, deploy_ref=row.target_deploy_ref or row.deploy_ref, previous_deploy_ref=row.deploy_ref)


async def update(
    cloud_id: str,
    deploy_ref: str | None,
    registry: BrainstemRegistry,
    client: df.DurableOrchestrationClient,
    settings: Settings,
) -> Accepted:
    job, fresh = claim_for_update(cloud_id, deploy_ref, registry, settings)
    if fresh or not await job_exists(client, job.job_id):
        await client.start_new(UPDATE, job.job_id, job.to_input())
    return Accepted(job.job_id, registry.get(cloud_id))
