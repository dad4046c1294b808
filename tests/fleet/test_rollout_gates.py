"""A rollout's gates through the real rig: bakes that watch live twins, approvals, holds, windows, the plan.

Time is the Durable driver's virtual clock: a bake of minutes or a window a week away passes as fast
as its timers can be armed; nothing sleeps on a timing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from controlplane.arm.budgets import budget_clock
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import brainstem_names
from controlplane.domain.rollout_gates import MaintenanceWindow, RolloutGates
from controlplane.domain.rollouts import RolloutSpec, Selector, WavePlan
from controlplane.domain.write_budget import BucketShape
from controlplane.registry import default_registry, iter_all
from controlplane.service.errors import TwinHeld
from controlplane.service.rollouts import initial_state
from controlplane.service.updates import claim_for_update
from controlplane.settings import get_settings
from sandbox.durable import check_replay_safety
from sandbox.monitor import LogsQueryStandIn
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig
from tests.api.conftest import Api
from tests.fleet.test_rollouts import NAMES, _DriverWithClient, eventually, fleet, refs, world_as_now


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


def test_a_twin_that_stops_answering_during_the_bake_fails_its_wave_and_the_wave_is_moved_back(
    rig: ControlPlaneRig,
) -> None:
    fleet(rig, NAMES[:3])
    assert rig.brainstems is not None
    # "bob" answers once on v2 (its update's readiness), then its host is down while it runs v2.
    rig.brainstems.silence_after(brainstem_names("bob").app_name, "v2", answers=1)
    api = Api(rig)
    waves = {"canary": 2, "growth": 2, "parallelism": 2, "max_failure_ratio": 0.0, "canary_bake_seconds": 120}
    rollout_id = begin(api, waves=waves, gates={"probe_interval_seconds": 10, "unanswered_probes": 2})
    record = ended(rig, rollout_id)
    assert record["status"] == "halted", record["message"]
    assert record["waves"][0]["succeeded"] == 2 and record["waves"][0]["failed"] == 1
    assert record["waves"][0]["rolled_back"] == 2 and len(record["waves"]) == 1
    assert refs() == dict.fromkeys(NAMES[:3], "abc123")  # both canaries moved back; "cy" never touched
    failure = api.request("GET", f"/api/cp/rollouts/{rollout_id}").json["failures"]
    assert [(f["cloud_id"], f["error"]["code"]) for f in failure] == [(cloud_id("bob"), "BakeUnanswered")]


def test_a_bake_whose_twins_keep_answering_passes_and_the_rollout_goes_on(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:3])
    api = Api(rig)
    waves = {"canary": 1, "growth": 2, "parallelism": 2, "bake_seconds": 30}
    record = ended(rig, begin(api, waves=waves, gates={"probe_interval_seconds": 10}))
    assert record["status"] == "completed" and [w["succeeded"] for w in record["waves"]] == [1, 2]
    assert refs() == dict.fromkeys(NAMES[:3], "v2")
    assert rig.driver is not None
    # The canary baked 60 s (twice 30) in 10 s rounds and the last wave 30 s: rounds were really probed.
    probes = [run.input for run in rig.driver.executions("probe_baking_wave")]
    assert sum(1 for p in probes if p["wave"] == 0) >= 6 and sum(1 for p in probes if p["wave"] == 1) >= 3


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


WORKSPACE = "0b6f1d3c-2e9a-4c1b-8e0e-2b7c1f4d5a60"
ERROR_RATE_QUERY = "AppRequests | summarize toreal(countif(Success == false)) / count()"


def error_rate_rig(make_rig: Callable[..., ControlPlaneRig], logs: LogsQueryStandIn) -> ControlPlaneRig:
    return make_rig(settings=logs.settings())


@pytest.mark.parametrize(("rate", "status"), [(0.01, "completed"), (0.2, "halted")], ids=["under", "over"])
def test_an_error_rate_over_its_threshold_during_the_bake_halts_and_moves_the_wave_back(
    make_rig: Callable[..., ControlPlaneRig], rate: float, status: str
) -> None:
    with LogsQueryStandIn() as logs:
        rig = error_rate_rig(make_rig, logs)
        fleet(rig, NAMES[:2])
        logs.set_error_rate(WORKSPACE, rate)
        gate = {"workspace_id": WORKSPACE, "query": ERROR_RATE_QUERY, "threshold": 0.05}
        body = {"waves": {"canary": 1, "bake_seconds": 10}, "gates": {"probe_interval_seconds": 5, "error_rate": gate}}
        record = ended(rig, begin(Api(rig), **body))
        assert record["status"] == status, record["message"]
        expected = "v2" if status == "completed" else "abc123"
        assert refs() == dict.fromkeys(NAMES[:2], expected)
        # The real LogsQueryClient asked: the operator's query, over the bake window, with a bearer token.
        assert logs.asked and {q.query for q in logs.asked} == {ERROR_RATE_QUERY}
        assert all(q.timespan and "/" in q.timespan and q.authorization.startswith("Bearer ") for q in logs.asked)
        if status == "halted":
            assert "error rate 0.2000 over the threshold 0.0500" in record["message"]
            assert record["waves"][0]["rolled_back"] == 1 and len(record["waves"]) == 1


def test_an_error_rate_gate_that_cannot_read_its_signal_fails_closed(make_rig: Callable[..., ControlPlaneRig]) -> None:
    with LogsQueryStandIn() as logs:
        rig = error_rate_rig(make_rig, logs)
        fleet(rig, NAMES[:1])  # no rate set for the workspace: the service answers WorkspaceNotFoundError
        gate = {"workspace_id": WORKSPACE, "query": ERROR_RATE_QUERY, "threshold": 0.5}
        body = {"waves": {"canary": 1, "bake_seconds": 5}, "gates": {"probe_interval_seconds": 5, "error_rate": gate}}
        record = ended(rig, begin(Api(rig), **body))
        assert record["status"] == "halted" and "WorkspaceNotFoundError" in record["message"], record["message"]
        assert refs() == {"ada": "abc123"}


def test_a_rollout_with_a_bake_a_window_and_a_hold_resumes_to_the_same_end_after_a_crash_at_any_event(
    rig: ControlPlaneRig,
) -> None:
    names = ["cra", "crb", "crc"]
    fleet(rig, names)
    registry = default_registry()
    registry.update(cloud_id("crc"), lambda row: row.with_changes(
        hold={"reason": "pinned", "by": "test", "at": "2030-01-01T00:00:00+00:00", "until": None}
    ))  # fmt: skip
    # Closed when the virtual clock starts (Tuesday 00:00 UTC), open from 00:10: the first look sleeps.
    hours = {"time_zone": "UTC", "days": ["tue"], "start": "00:10", "end": "23:00"}
    gates = RolloutGates.parse({"canary_bake_seconds": 5}, {"probe_interval_seconds": 5}, hours)
    spec = RolloutSpec(uuid.uuid4().hex, "v2", Selector(), WavePlan(canary=1, growth=1, parallelism=1), gates=gates)
    state = initial_state(spec, get_settings())
    same_world = world_as_now(spec)

    cases = check_replay_safety(
        _DriverWithClient, "rollout_brainstems", state, instance_id=spec.rollout_id, before_each_run=same_world,
        compare=lambda result: (result.status, result.output["status"] if result.output else None),
        timeout=60, require_clean_calls=False,
        polls=frozenset({"collect_rollout_outcomes", "rollout_control", "probe_baking_wave"}),
    )  # fmt: skip
    assert len(cases) >= 10
    assert refs() == {"cra": "v2", "crb": "v2", "crc": "abc123"}
    record = registry.rollouts.get(spec.rollout_id)
    assert [(w["succeeded"], w["held"]) for w in record["waves"]] == [(1, 0), (1, 0), (0, 1)]


def test_a_baking_rollout_history_stays_the_same_size_whatever_the_fleet(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    largest = {}
    for size in (2, 8):
        rig = make_rig()  # same table: the first fleet is on v2 by then, so it is not selected again
        fleet(rig, [f"b{size}x{i}" for i in range(size)])
        waves = {"canary": 2, "growth": 1, "parallelism": 2, "bake_seconds": 10, "approve_after": []}
        record = ended(rig, begin(Api(rig), waves=waves, gates={"probe_interval_seconds": 5}))
        assert record["status"] == "completed"
        assert rig.driver is not None
        largest[size] = rig.driver.get_status(record["rollout_id"]).largest_history
    # As without a bake (tests/fleet/test_rollouts.py): every execution is one look, whatever the fleet.
    bound = 4 * 6 + 6
    assert largest[2] <= bound and largest[8] <= bound, largest


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


def test_a_wave_that_fails_its_bake_after_the_window_closed_is_moved_back_at_once(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:2])
    assert rig.brainstems is not None
    rig.brainstems.silence_after(brainstem_names("bob").app_name, "v2", answers=1)
    hours = {"time_zone": "America/New_York", "days": ["wed"], "start": "10:00", "end": "10:02"}
    waves = {"canary": 2, "parallelism": 2, "canary_bake_seconds": 900}
    gates = {"probe_interval_seconds": 300, "unanswered_probes": 2}  # bob fails 5 minutes in: the window has shut
    record = ended(rig, begin(Api(rig), waves=waves, gates=gates, window=hours))
    assert record["status"] == "halted" and refs() == dict.fromkeys(NAMES[:2], "abc123")
    window = MaintenanceWindow.parse(hours)
    assert rig.driver is not None
    starts = sorted(r.created_time for r in rig.driver.list_statuses() if r.name == "update_brainstem")
    assert len(starts) == 4  # two updates inside the window, two ways back right after the bake failed
    assert all(window.is_open(start) for start in starts[:2]) and not any(window.is_open(s) for s in starts[2:])
    assert starts[2] - starts[0] < timedelta(days=1)  # not a week later, at the next opening


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
