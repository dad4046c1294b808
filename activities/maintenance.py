"""The timers that keep the registry true to Azure: the reconcile (hourly) and the heartbeat (hourly).

Each occurrence starts one durable workflow (orchestrators/reconcile.py) under a fixed instance id,
unless the previous one is still underway, so a slow run is never doubled by the next tick. The
reconcile's workflow also marks errored the busy rows whose job is gone (controlplane.workflows.reconcile),
page by page in an activity with a Durable client binding; no timer function reads a row.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func

from controlplane.domain.durable_names import Orchestration
from controlplane.settings import get_settings
from controlplane.workflows import history_retention, reconcile

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()


@blueprint.timer_trigger(schedule="0 17 * * * *", arg_name="timer", run_on_startup=False)
@blueprint.durable_client_input(client_name="client")
async def reconcile_registry(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    # Nothing per row here (a timer function has minutes): the workflow pages the fleet in activities.
    started = await reconcile.start_singleton(
        client, Orchestration.RECONCILE, reconcile.RECONCILE_INSTANCE, reconcile.reconcile_input(get_settings())
    )
    logger.info("reconcile: fleet reconcile %s", "started" if started else "underway")


@blueprint.timer_trigger(schedule="0 23 3 * * *", arg_name="timer", run_on_startup=False)
@blueprint.durable_client_input(client_name="client")
async def purge_history(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Daily: one purge call for every ended instance past CP_HISTORY_RETENTION_DAYS (nothing per row here)."""
    deleted = await history_retention.purge_ended_history(client, get_settings(), datetime.now(UTC))
    logger.info("history purge: %d ended instances deleted", deleted)


@blueprint.timer_trigger(schedule="0 47 * * * *", arg_name="timer", run_on_startup=False)
@blueprint.durable_client_input(client_name="client")
async def heartbeat(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    settings = get_settings()
    await reconcile.start_singleton(
        client, Orchestration.HEARTBEAT, reconcile.HEARTBEAT_INSTANCE, reconcile.heartbeat_input(settings)
    )
