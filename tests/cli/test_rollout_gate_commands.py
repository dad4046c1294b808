"""twinctl rollout plan|approve and hold|unhold against the real app, through the front door."""

from __future__ import annotations

import json

from sandbox.front_door import FrontDoor
from sandbox.rig import ControlPlaneRig
from tests.cli.test_fleet_commands import KODY, front, twinctl  # noqa: F401 - front is a fixture
from tests.workflows.twin_jobs import provision


def test_plan_prints_the_waves_and_starts_nothing(front: FrontDoor, rig: ControlPlaneRig) -> None:  # noqa: F811
    assert provision(rig, "kody").status == "Completed"
    result = twinctl(front, rig, "rollout", "plan", "v2", "--bake-seconds", "30", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["selected"] == 1 and plan["waves"][0]["bake_seconds"] == 60
    assert json.loads(twinctl(front, rig, "rollout", "list", "--json").stdout) == []
    shown = twinctl(front, rig, "rollout", "plan", "v2")
    assert "selected" in shown.stdout and "estimate_seconds" in shown.stdout


def test_a_held_twin_is_refused_by_update_until_unheld(front: FrontDoor, rig: ControlPlaneRig) -> None:  # noqa: F811
    assert provision(rig, "kody").status == "Completed"
    assert twinctl(front, rig, "hold", KODY, "--reason", "demo").exit_code == 0
    refused = twinctl(front, rig, "update", KODY, "--deploy-ref", "v2")
    assert refused.exit_code == 4 and "held" in refused.output
    assert twinctl(front, rig, "unhold", KODY).exit_code == 0
    assert twinctl(front, rig, "update", KODY, "--deploy-ref", "v2", "--wait").exit_code == 0


def test_a_rollout_waiting_for_approval_goes_on_once_approved(front: FrontDoor, rig: ControlPlaneRig) -> None:  # noqa: F811
    for name in ("kody", "lea"):
        assert provision(rig, name).status == "Completed"
    started = twinctl(front, rig, "rollout", "start", "v2", "--approve-after", "canary", "--follow", "--json")
    waiting = json.loads(started.stdout)
    assert waiting["status"] == "awaiting_approval" and started.exit_code == 5  # --follow stops where it waits
    assert twinctl(front, rig, "rollout", "approve", waiting["rollout_id"]).exit_code == 0
    done = twinctl(front, rig, "rollout", "status", waiting["rollout_id"], "--follow", "--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["approvals"][0]["wave"] == 0
