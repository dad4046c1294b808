"""A rollout's parallelism is a window per subscription: each subscription keeps its own twins in flight.

Through the real rig (the real Durable replay, the ARM stand-in over HTTPS, Azurite): twins placed
over two subscriptions, a site PUT held at the stand-in's gate so that updates stay in flight
exactly as long as the test says, and nothing timed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from controlplane.domain.lifecycle import Status
from controlplane.registry import default_registry, iter_all
from sandbox.arm import Fault, Gate
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api
from tests.fleet.test_rollouts import eventually, start

SUB_A = "aaaaaaaa-0000-4000-8000-0000000000a1"
SUB_B = "bbbbbbbb-0000-4000-8000-0000000000b2"


def two_subscriptions(make_rig: Callable[..., ControlPlaneRig], twins_each: int) -> ControlPlaneRig:
    roomy = [{"subscription_id": s, "regions": ["eastus2"], "max_twins_per_region": 10} for s in (SUB_A, SUB_B)]
    rig = make_rig(settings={"CP_SUBSCRIPTION_POOL": json.dumps(roomy)})
    api = Api(rig)
    jobs = []
    for i in range(2 * twins_each):
        answer = api.post({"name": f"win{i}", "owner": "github:a"})
        assert answer.status == 202, answer.body
        jobs.append(answer.json["job_id"])
    assert all(api.wait(job)["runtime_status"] == "Completed" for job in jobs)
    assert Counter(row.subscription_id for row in iter_all(default_registry())) == {
        SUB_A: twins_each,
        SUB_B: twins_each,
    }
    return rig


def rows_by_subscription() -> dict[str, Counter[tuple[str, str]]]:
    """Per subscription: how many twins are in each (status, deploy_ref)."""
    found: dict[str, Counter[tuple[str, str]]] = {SUB_A: Counter(), SUB_B: Counter()}
    for row in iter_all(default_registry()):
        assert row.subscription_id is not None
        found[row.subscription_id][(row.status.value, row.deploy_ref)] += 1
    return found


def updating(subscription: str, deploy_ref: str) -> int:
    return rows_by_subscription()[subscription][(Status.UPDATING.value, deploy_ref)]


def queued(windows: Any, rollout_id: str) -> dict[str, int]:
    """How many of wave 0's twins wait in each subscription's queue."""
    return {sub: len(windows.queued(rollout_id, 0, sub, limit=10)) for sub in (SUB_A, SUB_B)}


def test_each_subscription_keeps_its_own_window_and_a_slow_one_holds_back_no_other(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    rig = two_subscriptions(make_rig, 3)
    original = next(iter(rows_by_subscription()[SUB_A]))[1]
    # Every site PUT in A hangs until the test opens its gate; B's first two hang until its own opens.
    slow, first_of_b = Gate(), Gate()
    rig.arm.inject(Fault(route="sites.create_or_update", kind="hang", times=None, subscription=SUB_A, gate=slow))
    rig.arm.inject(Fault(route="sites.create_or_update", kind="hang", times=2, subscription=SUB_B, gate=first_of_b))
    rollout_id = start(rig, canary=6, growth=1, parallelism=2)  # one wave of all six twins, 2 at once per subscription

    # Two in flight in each subscription at once: four in all, where one window of 2 would allow two
    # (this is where the global window's code never gets: it waits here until the attempts run out).
    eventually(lambda: updating(SUB_A, original) == updating(SUB_B, original) == 2)
    windows = default_registry().rollouts.windows
    # The look that started them also queued each subscription's third twin in its own queue (read
    # once that look's batch has ended: the starts come before the queueing, within one activity).
    eventually(lambda: queued(windows, rollout_id) == {SUB_A: 1, SUB_B: 1})
    assert windows.running(rollout_id, 0, "started") == Counter({SUB_A: 2, SUB_B: 2})

    # B's updates end: B's window takes its queued twin and finishes, while A's two still hang and
    # A's third still waits for a place in A's window (B's free places are not A's).
    first_of_b.open()
    eventually(lambda: rows_by_subscription()[SUB_B] == {(Status.ACTIVE.value, "v2"): 3})
    # The rollout's own record of B's last update follows at its next look.
    eventually(lambda: windows.running(rollout_id, 0, "started") == Counter({SUB_A: 2}))
    slow_now = rows_by_subscription()[SUB_A]
    assert slow_now == {(Status.UPDATING.value, original): 2, (Status.ACTIVE.value, original): 1}, slow_now
    assert queued(windows, rollout_id) == {SUB_A: 1, SUB_B: 0}

    slow.open()
    assert rig.driver is not None
    result = rig.driver.wait(rollout_id, timeout=120)
    assert result.status == "Completed" and result.output["status"] == "completed", result.error
    assert rows_by_subscription() == {SUB_A: {(Status.ACTIVE.value, "v2"): 3}, SUB_B: {(Status.ACTIVE.value, "v2"): 3}}
    record = default_registry().rollouts.get(rollout_id)
    assert [(w["selected"], w["succeeded"]) for w in record["waves"]] == [(6, 6)]
    assert not windows.any_queued(rollout_id, 0)
