"""A rollout's bakes through the real rig: twins probed over the bake, the error-rate query, crash and size.

Time is the Durable driver's virtual clock: a bake of minutes or a window a week away passes as fast
as its timers can be armed; nothing sleeps on a timing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from controlplane.domain.naming import twin_names
from controlplane.domain.rollout_gates import MaintenanceWindow, RolloutGates
from controlplane.domain.rollouts import RolloutSpec, Selector, WavePlan
from controlplane.registry import default_registry
from controlplane.service.rollouts import initial_state
from controlplane.settings import get_settings
from sandbox.durable import check_replay_safety
from sandbox.monitor import LogsQueryStandIn
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api
from tests.fleet.test_rollout_gates import begin, cloud_id, ended
from tests.fleet.test_rollouts import NAMES, _DriverWithClient, fleet, refs, world_as_now


def test_a_twin_that_stops_answering_during_the_bake_fails_its_wave_and_the_wave_is_moved_back(
    rig: ControlPlaneRig,
) -> None:
    fleet(rig, NAMES[:3])
    assert rig.brainstems is not None
    # "bob" answers once on v2 (its update's readiness), then its host is down while it runs v2.
    rig.brainstems.silence_after(twin_names("bob").app_name, "v2", answers=1)
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


def test_a_wave_that_fails_its_bake_after_the_window_closed_is_moved_back_at_once(rig: ControlPlaneRig) -> None:
    fleet(rig, NAMES[:2])
    assert rig.brainstems is not None
    rig.brainstems.silence_after(twin_names("bob").app_name, "v2", answers=1)
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


def test_a_rollout_without_a_bake_runs_no_gate_activity(rig: ControlPlaneRig) -> None:
    """The bench's path (no bake, no window, no approval): the rollout's looks are what they were."""
    fleet(rig, NAMES[:3])
    record = ended(rig, begin(Api(rig), waves={"canary": 1, "growth": 2, "parallelism": 2}))
    assert record["status"] == "completed"
    assert rig.driver is not None
    names = {run.name for run in rig.driver.executions(instance_id=record["rollout_id"])}
    assert names == {"rollout_control", "collect_rollout_outcomes", "start_rollout_batch", "set_rollout_status"}
