"""Durable history is kept for a retention period, then purged: the task hub stays small at any fleet size.

Every create, update and teardown leaves an instance and its history in the task hub (Azure Storage's
Instances and History tables, or the Durable Task Scheduler's store, which keeps at most 90 days on
Dedicated). Without a purge they grow with every job ever run. Learn, "Instance management in Durable
Functions", "Purge instance history": ``purge_instance_history_by(created_time_from, created_time_to,
runtime_status)`` deletes every matching instance in one call to the extension; only instances that have
ended (Completed, Failed, Terminated) are purged, so a running job's history is never touched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from controlplane.settings import Settings

ENDED = [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated]
# The extension requires a lower bound on created time; nothing of ours was created before this.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def purge_ended_history(client: df.DurableOrchestrationClient, settings: Settings, now: datetime) -> int:
    """Purge the instances that ended and were created more than the retention period ago; how many."""
    cutoff = now - timedelta(days=settings.history_retention_days)
    result = await client.purge_instance_history_by(
        created_time_from=EPOCH, created_time_to=cutoff, runtime_status=ENDED
    )
    return int(result.instances_deleted)
