"""Accepting an update of one twin: fence the row (``updating``) for the job, then start it.

The fence is what keeps two updates (a PATCH and a rollout, or two rollouts) off the same twin at
once: only an ``active`` row can be claimed, under its ETag, and the losing claimant is told which
job holds the twin. A claim with the job id it already holds is idempotent (a retried activity of
a rollout, or a repeated PATCH whose job never started).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

import azure.durable_functions as df

from controlplane.domain.app_settings import merged, validate_app_settings
from controlplane.domain.errors import InvalidInput
from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.twin import Twin
from controlplane.registry import TwinRegistry
from controlplane.service.errors import AlreadyUpdating, NotActive
from controlplane.service.holds import refuse_if_held
from controlplane.service.jobs import UPDATE, Accepted, job_exists, new_job_id
from controlplane.settings import Settings
from controlplane.workflows import durable_calls
from controlplane.workflows.job_inputs import job_for

DEPLOY_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def validate_deploy_ref(value: object, field: str = "deploy_ref") -> str:
    if not isinstance(value, str) or not DEPLOY_REF.fullmatch(value):
        raise InvalidInput(
            field, f"{field} must be 1-64 letters, digits, '.', '_' or '-' (a git sha, tag or bundle hash)"
        )
    return value


def parse_update(body: dict[str, Any]) -> tuple[str | None, dict[str, str | None] | None]:
    """A PATCH body: (the deploy_ref to move to or None, the app settings to change or None)."""
    unknown = sorted(set(body) - {"deploy_ref", "app_settings", "refresh_settings"})
    if unknown:
        raise InvalidInput(
            unknown[0], f"unknown field '{unknown[0]}'; an update takes deploy_ref, app_settings, refresh_settings"
        )
    refresh = body.get("refresh_settings", False)
    if not isinstance(refresh, bool):
        raise InvalidInput("refresh_settings", "refresh_settings must be true or false")
    deploy_ref = validate_deploy_ref(body["deploy_ref"]) if "deploy_ref" in body else None
    changes = validate_app_settings(body["app_settings"]) if "app_settings" in body else None
    if deploy_ref is None and changes is None and not refresh:
        raise InvalidInput(
            "deploy_ref", "give deploy_ref, app_settings, or refresh_settings: true to re-apply the current settings"
        )
    return deploy_ref, changes


def claim_for_update(
    cloud_id: str, deploy_ref: str | None, registry: TwinRegistry, settings: Settings, *,
    job_id: str | None = None, app_settings: dict[str, str | None] | None = None, repair: bool = False,
) -> tuple[TwinJob, bool]:  # fmt: skip
    """Move an active row to ``updating`` for a new job; return the job and whether it must still be started.

    ``deploy_ref`` None re-publishes the current version with the operator's current settings;
    ``app_settings`` changes the twin's own (Key Vault references; None values remove).
    """
    row = registry.get(cloud_id)
    if row.status == Status.UPDATING and job_id is not None and row.job_id == job_id:
        return _job(row, settings), False
    if row.status == Status.UPDATING:
        raise AlreadyUpdating(
            f"{cloud_id} is already updating (job {row.job_id}); poll that job first",
            cloud_id=cloud_id,
            job_id=row.job_id,
        )
    if row.status != Status.ACTIVE:
        raise NotActive(f"{cloud_id} is {row.status.value}; only an active brainstem can be updated", cloud_id=cloud_id)
    refuse_if_held(row)  # and again on the read the claim is written under: a hold placed meanwhile wins
    if row.delete_at is not None:  # its teardown job owns the row: an update would silently cancel the delete
        raise NotActive(
            f"{cloud_id} is pending delete until {row.delete_at}; restore it (POST .../restore) to update it",
            cloud_id=cloud_id, job_id=row.job_id,
        )  # fmt: skip
    row = registry.transition(
        cloud_id, Status.UPDATING, for_job=row.job_id, guard=refuse_if_held, job_id=job_id or new_job_id(),
        target_deploy_ref=deploy_ref or row.deploy_ref,
        target_app_settings=merged(row.app_settings, app_settings) if app_settings else row.app_settings,
        drift=None,  # what the update publishes is what the registry says: the next reconcile looks again
    )  # fmt: skip
    return replace(_job(row, settings), repair=repair), True


def _job(row: Twin, settings: Settings) -> TwinJob:
    """The update job the row's claim describes: to the target version and settings, back to the current ones."""
    return replace(
        job_for(row, settings),
        deploy_ref=row.target_deploy_ref or row.deploy_ref,
        previous_deploy_ref=row.deploy_ref,
        app_settings=row.target_app_settings,
        previous_app_settings=row.app_settings,
    )


async def update(
    cloud_id: str, deploy_ref: str | None, registry: TwinRegistry, client: df.DurableOrchestrationClient,
    settings: Settings, *, app_settings: dict[str, str | None] | None = None, repair: bool = False,
) -> Accepted:  # fmt: skip
    """Start an update; ``repair``: re-publish the registered version and settings and put the group's tags back."""
    job, fresh = await asyncio.to_thread(  # Table Storage is synchronous: off the event loop
        claim_for_update, cloud_id, deploy_ref, registry, settings, app_settings=app_settings, repair=repair
    )
    if fresh or not await job_exists(client, job.job_id):
        await durable_calls.start_new(client, UPDATE, job.job_id, job.to_input())
    return Accepted(job.job_id, await asyncio.to_thread(registry.get, cloud_id))
