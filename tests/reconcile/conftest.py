"""The reconcile's tests drive the whole rig: the API, the timers, the ARM stand-in, the brainstem hosts."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api


@pytest.fixture
def api(rig: ControlPlaneRig) -> Api:
    return Api(rig)


def run_timer(rig: ControlPlaneRig, timer: str, instance_id: str) -> dict[str, Any]:
    """Fire a timer as its schedule would and wait for the workflow it starts; that workflow's output."""
    rig.fire_timer(timer)
    assert rig.driver is not None
    result = rig.driver.wait(instance_id, timeout=120)
    assert result.status == "Completed", result
    output: dict[str, Any] = result.output
    return output


def reconcile(rig: ControlPlaneRig) -> dict[str, Any]:
    return run_timer(rig, "reconcile_registry", "reconcile-fleet")


def heartbeat(rig: ControlPlaneRig) -> dict[str, Any]:
    return run_timer(rig, "heartbeat", "heartbeat-sweep")


def provision(api: Api, name: str, **fields: Any) -> str:
    """Create a twin through the API and wait until it is active; its cloud_id."""
    accepted = api.post({"name": name, "owner": "github:kody", **fields})
    assert accepted.status == 202, accepted.body
    job = api.wait(accepted.json["job_id"])
    assert job["runtime_status"] == "Completed", job
    return str(accepted.json["cloud_id"])
