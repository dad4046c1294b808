"""A rollout's gates through the real rig: approvals, holds, windows, the plan (bakes: test_rollout_bakes.py).

Time is the Durable driver's virtual clock: a bake of minutes or a window a week away passes as fast
as its timers can be armed; nothing sleeps on a timing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from controlplane.arm.budgets import budget_clock
from controlplane.domain.lifecycle import Status
from controlplane.domain.rollout_gates import MaintenanceWindow
from controlplane.domain.write_budget import BucketShape
from controlplane.registry import default_registry, iter_all
from controlplane.service.errors import TwinHeld
from controlplane.service.updates import claim_for_update
from controlplane.settings import get_settings
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig
from tests.api.conftest import Api
from tests.fleet.test_rollouts import NAMES, eventually, fleet, refs


def begin(api: Api, **body: Any) -> str:
    answer = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2", **body})
    assert answer.status == 202, answer.body
    rollout_id: str = answer.json["rollout_id"]
    return rollout_id


def ended(rig: ControlPlaneRig, rollout_id: str) -> dict[str, Any]:
    assert rig.driver is not None
    result = rig.driver.wait(rollout_id, timeout=120)
    assert result.status == "Completed", result.error
    return default_registry().rollouts.get(rollout_id)


def cloud_id(name: str) -> str:
    return next(row.cloud_id for row in iter_all(default_registry()) if row.name == name)


def test_an_approval_gate_waits_until_an_operator_approves_and_records_who(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    api = Api(rig)
    rollout_id = begin(api, waves={"canary": 1, "growth": 2, "parallelism": 2, "approve_after": ["canary"]})
    registry = default_registry()
    eventually(lambda: registry.rollouts.get(rollout_id)["status"] == "awaiting_approval")
    assert sorted(refs().values()) == ["abc123", "abc123", "v2"]  # the canary only, however long it waits
    assert rig.driver is not None and rig.driver.get_status(rollout_id).status == "Running"
    early = api.request("POST", f"/api/cp/rollouts/{rollout_id}/pause")  # steering still works meanwhile
    assert early.status == 200
    api.request("POST", f"/api/cp/rollouts/{rollout_id}/resume")
    approved = api.request("POST", f"/api/cp/rollouts/{rollout_id}/approve")
    assert approved.status == 200, approved.body
    record = ended(rig, rollout_id)
    assert record["status"] == "completed" and refs() == dict.fromkeys(NAMES[:3], "v2")
    [approval] = record["approvals"]
    assert approval["wave"] == 0 and approval["by"].startswith("api-key:") and approval["at"]
    again = api.request("POST", f"/api/cp/rollouts/{rollout_id}/approve")
    assert again.status == 409  # ended: nothing to approve


def test_a_rollout_awaiting_approval_can_still_be_aborted(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:2])
    api = Api(rig)
    rollout_id = begin(api, waves={"canary": 1, "approve_after": [0]})
    eventually(lambda: default_registry().rollouts.get(rollout_id)["status"] == "awaiting_approval")
    assert api.request("POST", f"/api/cp/rollouts/{rollout_id}/abort").status == 200
    record = ended(rig, rollout_id)
    assert record["status"] == "aborted" and record["approvals"] == []
    assert sorted(refs().values()) == ["abc123", "v2"]  # the canary stays on v2 (abort moves nothing back)


def test_approving_a_rollout_that_does_not_wait_is_a_conflict(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:1])
    api = Api(rig)
    rollout_id = begin(
        api, waves={"canary": 1}, window={"time_zone": "UTC", "days": ["sun"], "start": "01:00", "end": "02:00"}
    )
    eventually(lambda: "maintenance window" in default_registry().rollouts.get(rollout_id)["message"])
    refused = api.request("POST", f"/api/cp/rollouts/{rollout_id}/approve")
    assert refused.status == 409 and refused.json["type"].endswith("not-awaiting-approval")
    api.request("POST", f"/api/cp/rollouts/{rollout_id}/abort")
    assert ended(rig, rollout_id)["status"] == "aborted"


def test_a_held_twin_is_never_updated_by_a_rollout_or_a_patch(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    api = Api(rig)
    bob = cloud_id("bob")
    held = api.request("PUT", f"/api/cp/brainstems/{bob}/hold", json_body={"reason": "customer demo"})
    assert held.status == 200 and held.json["hold"]["reason"] == "customer demo"
    patch = api.request("PATCH", f"/api/cp/brainstems/{bob}", json_body={"deploy_ref": "v2"})
    assert patch.status == 409 and patch.json["type"].endswith("held") and "customer demo" in patch.json["detail"]
    record = ended(rig, begin(api, waves={"canary": 1, "growth": 2, "parallelism": 2}))
    assert record["status"] == "completed"
    assert refs() == {"ada": "v2", "bob": "abc123", "cy": "v2"}
    assert sum(w["held"] for w in record["waves"]) == 1 and sum(w["selected"] for w in record["waves"]) == 2
    lifted = api.request("DELETE", f"/api/cp/brainstems/{bob}/hold")
    assert lifted.status == 200 and lifted.json["hold"] is None
    assert api.request("PATCH", f"/api/cp/brainstems/{bob}", json_body={"deploy_ref": "v2"}).status == 202


def test_a_caller_without_credentials_cannot_hold_a_twin(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:1])
    ada = cloud_id("ada")
    stranger = Api(rig).as_caller({"x-api-key": "not-a-key"})
    assert stranger.request("PUT", f"/api/cp/brainstems/{ada}/hold", json_body={"reason": "mine"}).status == 401
    assert default_registry().get(ada).hold is None


def test_a_window_keeps_every_update_inside_its_open_hours(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    api = Api(rig)
    # The virtual clock starts on Tuesday 2030-01-01 00:00 UTC; the window opens Wednesdays for 2 minutes
    # in New York, so an update that does not fit must wait a week for the next opening.
    hours = {"time_zone": "America/New_York", "days": ["wed"], "start": "10:00", "end": "10:02"}
    rollout_id = begin(api, waves={"canary": 1, "growth": 1, "parallelism": 1}, window=hours)
    record = ended(rig, rollout_id)
    assert record["status"] == "completed" and refs() == dict.fromkeys(NAMES[:3], "v2")
    window = MaintenanceWindow.parse(hours)
    assert rig.driver is not None
    starts = [r.created_time for r in rig.driver.list_statuses() if r.name == "update_brainstem"]
    assert len(starts) == 3 and all(window.is_open(start) for start in starts), starts
    assert starts[0] >= datetime.fromisoformat("2030-01-02T15:00:00+00:00")


def test_the_plan_counts_what_the_rollout_then_does(rig: ControlPlaneRig) -> None:
    fleet(rig)
    api = Api(rig)
    api.request("PUT", f"/api/cp/brainstems/{cloud_id('cy')}/hold", json_body={"reason": "pinned"})
    body: dict[str, Any] = {"waves": {"canary": 1, "growth": 2, "parallelism": 3, "bake_seconds": 20}}
    planned = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2", **body, "dry_run": True})
    assert planned.status == 200, planned.body
    plan = planned.json
    assert (plan["selected"], plan["held"]) == (4, 1)
    assert plan["estimate"]["bake_seconds"] == 40 + 20 + 20  # the canary bakes twice as long
    assert not default_registry().rollouts.list_rollouts() and set(refs().values()) == {"abc123"}  # nothing began
    record = ended(rig, begin(api, **body))
    done = [(w["selected"], w["held"]) for w in record["waves"]]
    assert done == [(w["selected"], w["held"]) for w in plan["waves"]], (done, plan["waves"])


def test_a_rollout_with_gates_refuses_what_it_cannot_run(rig: ControlPlaneRig) -> None:
    api = Api(rig)
    for body, field in (
        ({"waves": {"approve_after": ["growth"]}}, "waves.approve_after"),
        ({"waves": {"bake_seconds": -1}}, "waves.bake_seconds"),
        (
            {"gates": {"error_rate": {"workspace_id": "x", "query": "q", "threshold": 0.1}}},
            "gates.error_rate.workspace_id",
        ),
        (
            {"window": {"time_zone": "Nowhere/Land", "days": ["mon"], "start": "01:00", "end": "02:00"}},
            "window.time_zone",
        ),
        ({"dry_run": "yes"}, "dry_run"),
    ):
        answer = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2", **body})
        assert answer.status == 400 and answer.json["field"] == field, answer.body


class _HoldArrivesDuringTheClaim:
    """The real registry, with an operator's hold written (for real) between a claim's first read and
    its conditional write: the interleaving two instances of the control plane can produce."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def get(self, cloud_id: str) -> Any:
        return self.registry.get(cloud_id)

    def transition(self, cloud_id: str, *args: Any, **kwargs: Any) -> Any:
        hold = {"reason": "just now", "by": "api-key:other", "at": "2030-01-01T00:00:00+00:00", "until": None}
        self.registry.update(cloud_id, lambda row: row.with_changes(hold=hold))
        return self.registry.transition(cloud_id, *args, **kwargs)


def test_a_hold_placed_while_a_claim_is_in_flight_refuses_that_claim(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:1])
    ada = cloud_id("ada")
    with pytest.raises(TwinHeld, match="just now"):
        claim_for_update(ada, "v2", _HoldArrivesDuringTheClaim(default_registry()), get_settings())  # type: ignore[arg-type]
    row = default_registry().get(ada)
    assert row.status == Status.ACTIVE and row.deploy_ref == "abc123" and row.hold is not None


def test_the_plans_estimate_starts_behind_what_the_write_budget_has_booked(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:2])
    api = Api(rig)
    settings, registry = get_settings(), default_registry()
    before = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2", "dry_run": True}).json
    shape = BucketShape(settings.arm_writes_per_second, settings.arm_write_burst)
    booked = int(settings.arm_write_burst)  # a full burst booked by other work: the bucket is empty now
    for _ in range(3):
        registry.arm_budget.reserve(SUBSCRIPTION_ID, "writes", booked, now=budget_clock(), shape=shape, horizon=1e9)
    after = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2", "dry_run": True}).json
    [subscription] = after["estimate"]["by_subscription"]
    assert subscription["subscription_id"] == SUBSCRIPTION_ID and subscription["writes"] == 2 * 7  # 7 writes a twin
    waited = after["estimate"]["arm_write_seconds"] - before["estimate"]["arm_write_seconds"]
    assert waited >= 2 * booked / settings.arm_writes_per_second - 1  # the backlog the bookings left
