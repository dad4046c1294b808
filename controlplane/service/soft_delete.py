"""Soft delete: a DELETE leaves a twin running, pending delete, for CP_DELETE_GRACE_SECONDS; restore cancels it.

    DELETE   -> row keeps its status (the twin still runs), gets delete_at and the teardown's job id
    teardown -> waits on a durable timer until delete_at, then moves the row to deleting *for its job*
    restore  -> clears delete_at and gives the row a fresh job id: the waiting teardown, when its
                timer fires, finds the row no longer its own and ends as cancelled

The fence is the row's job id under its ETag (as everywhere in the registry), and the wait is a
durable timer (in Durable's own storage), so a crash of any worker at any point neither deletes a
restored twin nor forgets a pending one. Only twins at rest (active, errored, missing) wait: a twin
still provisioning or updating has a job changing it, and is torn down at once, as before.

The bulk guard counts the caller's accepted deletes in the last hour from the audit trail (one
partition query of at most CP_DELETE_RATE_LIMIT + 1 records): beyond the limit a DELETE is a 429
unless an operator confirms with ``?confirm=bulk``. Two deletes by one caller at the same instant
may both pass the last free place: the limit holds to within the caller's own concurrency.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df

from controlplane.auth import Principal
from controlplane.domain.audit import Action
from controlplane.domain.errors import InvalidInput
from controlplane.domain.lifecycle import Status
from controlplane.domain.twin import Twin, timestamp
from controlplane.registry import TwinRegistry
from controlplane.service.errors import NotActive, QuotaExceeded
from controlplane.service.jobs import TEARDOWN, Accepted, job_exists, new_job_id
from controlplane.settings import Settings
from controlplane.workflows.job_inputs import job_for

logger = logging.getLogger(__name__)
AT_REST = frozenset({Status.ACTIVE, Status.ERRORED, Status.MISSING})
BULK_CONFIRMATION = "bulk"


class DeleteRateExceeded(QuotaExceeded):
    type = "delete-rate-exceeded"
    title = "Too many deletes"


def check_delete_rate(principal: Principal, principal_name: str, registry: TwinRegistry, settings: Settings,
                      *, confirm: str | None) -> None:  # fmt: skip
    """Refuse a delete past CP_DELETE_RATE_LIMIT in the last hour, unless an operator confirms a bulk delete."""
    if confirm is not None and confirm != BULK_CONFIRMATION:
        raise InvalidInput("confirm", "confirm takes one value: bulk")
    if confirm == BULK_CONFIRMATION and principal.is_operator:
        return
    since = timestamp(datetime.now(UTC) - timedelta(hours=1))
    limit = settings.delete_rate_limit
    count = registry.audit.count_recent(principal_name, Action.DELETE, since=since, at_most=limit)
    if count >= limit:
        hint = (
            " Confirm a bulk delete with ?confirm=bulk." if principal.is_operator else " An operator may delete more."
        )
        raise DeleteRateExceeded(
            f"{count} deletes in the last hour reach the limit of {limit} (CP_DELETE_RATE_LIMIT).{hint}",
            limit=limit, count=count,
        )  # fmt: skip


def claim_pending_delete(cloud_id: str, registry: TwinRegistry, settings: Settings) -> tuple[Twin, bool]:
    """Mark an at-rest row pending delete for a new teardown job; return it and whether the job must start.

    A row already pending keeps its job and its time (a second DELETE answers with them)."""
    fresh = {"value": False}
    delete_at = timestamp(datetime.now(UTC) + timedelta(seconds=settings.delete_grace_seconds))

    def change(current: Twin) -> Twin | None:
        if current.delete_at is not None:
            fresh["value"] = False
            return None
        if current.status not in AT_REST:  # it changed under us: the caller takes the immediate path
            raise NotActive(f"{cloud_id} is {current.status.value}", cloud_id=cloud_id)
        fresh["value"] = True
        return current.with_changes(job_id=new_job_id(), delete_at=delete_at)

    row = registry.update(cloud_id, change)
    return row, fresh["value"]


async def begin_pending_delete(
    cloud_id: str, registry: TwinRegistry, client: df.DurableOrchestrationClient, settings: Settings
) -> Accepted:
    row, fresh = await asyncio.to_thread(claim_pending_delete, cloud_id, registry, settings)
    job = job_for(row, settings)
    if fresh or not await job_exists(client, job.job_id):
        await client.start_new(TEARDOWN, job.job_id, job.to_input())
    return Accepted(job.job_id, row)


def claim_restore(cloud_id: str, registry: TwinRegistry) -> tuple[Twin, str | None]:
    """Cancel a pending delete: clear delete_at and move the row off the teardown's job. Returns the row
    and the cancelled teardown's job id (None when the row was not pending: restore is idempotent)."""
    cancelled: dict[str, str | None] = {"job": None}

    def change(current: Twin) -> Twin | None:
        if current.delete_at is None:
            if current.status in (Status.DELETING, Status.DELETED):
                raise NotActive(
                    f"{cloud_id} is {current.status.value}: its grace period is over, it cannot be restored",
                    cloud_id=cloud_id,
                )
            return None
        cancelled["job"] = current.job_id
        return current.with_changes(delete_at=None, job_id=new_job_id())

    row = registry.update(cloud_id, change)
    return row, cancelled["job"]


async def restore(cloud_id: str, registry: TwinRegistry, client: df.DurableOrchestrationClient) -> tuple[Twin, bool]:
    """Restore a pending-delete twin; return its row and whether there was a delete to cancel."""
    row, cancelled = await asyncio.to_thread(claim_restore, cloud_id, registry)
    if cancelled is not None:
        # Not needed for safety (the fence stops the teardown when its timer fires); it just ends the
        # waiting instance now rather than at delete_at. An instance already gone is fine.
        try:
            await client.terminate(cancelled, "restored")
        except Exception as exc:  # noqa: BLE001 - the extension answers 410 for an ended instance
            logger.info("teardown %s of %s not terminated (%s); its fence ends it", cancelled, cloud_id, exc)
    return row, cancelled is not None
