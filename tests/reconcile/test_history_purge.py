"""Ended Durable instances are purged after the retention period, through the real client and the
extension's purge-by-filter API; recent ones stay (only ended statuses are asked for)."""

from __future__ import annotations

import datetime as dt

import azure.durable_functions as df
import pytest

from controlplane.settings import get_settings
from controlplane.workflows.history_retention import purge_ended_history
from sandbox.durable import shared_loop
from sandbox.durable.errors import InstanceNotFoundError
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api
from tests.reconcile.conftest import provision


def test_ended_jobs_past_the_retention_are_purged_and_recent_ones_stay(rig: ControlPlaneRig, api: Api) -> None:
    assert rig.driver is not None and rig.driver.client_binding is not None
    provision(api, "kody")
    [job] = [r for r in rig.driver.list_statuses() if r.status == "Completed"]
    client = df.DurableOrchestrationClient(rig.driver.client_binding)
    retention = dt.timedelta(days=get_settings().history_retention_days)

    def purge(now: dt.datetime) -> int:
        return shared_loop().run(purge_ended_history(client, get_settings(), now))

    assert purge(job.created_time + retention - dt.timedelta(hours=1)) == 0  # still inside the retention
    assert rig.driver.get_status(job.instance_id).status == "Completed"
    assert purge(job.created_time + retention + dt.timedelta(hours=1)) == 1
    with pytest.raises(InstanceNotFoundError):
        rig.driver.get_status(job.instance_id)


def test_the_daily_timer_runs_through_the_worker(rig: ControlPlaneRig) -> None:
    rig.fire_timer("purge_history")  # the worker's TimerInfo in, the real client binding: no error
