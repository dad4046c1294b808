"""The fleet model names the limit that takes longest, and each limit's time is its own arithmetic."""

from __future__ import annotations

from typing import Any

from bench.fleet_rig import WRITE_BUCKET
from bench.rollouts import bound_seconds
from bench.scale_model import BUDGET_SHARE, CREATE_CHAIN_SECONDS, predict, predict_rollout, spread
from controlplane.domain.rollouts import MAX_PARALLELISM


def test_slots_bind_when_each_twin_holds_a_slot_longer_than_arm_needs() -> None:
    # 106 subscriptions × 9.5 writes/s ÷ 12 writes ≈ 84 twins/s; 640 slots ÷ 47.6 s ≈ 13.4 twins/s.
    held = predict(100_000, 106, writes_per_twin=12, slot_seconds_per_twin=47.6, actions_per_twin=30,
                   activity_slots=640, backend_actions_per_second=None)  # fmt: skip
    assert held["binding_limit"] == "activity_slots"
    assert held["seconds_by_limit"]["activity_slots"] == round(100_000 * 47.6 / 640, 1)


def test_arm_binds_once_slots_are_enough_and_the_backend_names_itself_when_slowest() -> None:
    quick = predict(100_000, 106, writes_per_twin=12, slot_seconds_per_twin=3, actions_per_twin=30,
                    activity_slots=640, backend_actions_per_second=None)  # fmt: skip
    assert quick["binding_limit"] == "arm"
    assert quick["predicted_over_arm_bound"] == round(1 / 0.95, 3)
    consumption = predict(100_000, 106, writes_per_twin=12, slot_seconds_per_twin=3, actions_per_twin=47,
                          activity_slots=640, backend_actions_per_second=500)  # fmt: skip
    assert consumption["binding_limit"] == "backend_actions"
    assert consumption["seconds_by_limit"]["backend_actions"] == 100_000 * 47 / 500


def test_a_small_create_takes_at_least_one_twins_chain() -> None:
    small = predict(10, 1, writes_per_twin=12, slot_seconds_per_twin=3, actions_per_twin=58,
                    activity_slots=640, backend_actions_per_second=None)  # fmt: skip
    assert small["predicted_seconds"] == CREATE_CHAIN_SECONDS == 41.5


def test_a_rollout_is_predicted_at_the_budgets_rate_from_the_bench_plan() -> None:
    # 100k over 106 subscriptions: ~943 twins × 7 writes a subscription, far beyond one burst.
    rollout = predict_rollout(100_000, 106, writes_per_twin=7, slot_seconds_per_twin=3, actions_per_twin=50,
                              activity_slots=640, backend_actions_per_second=None)  # fmt: skip
    assert rollout["waves"] == [2000, 8000, 32000, 58000]
    assert rollout["seconds_by_limit"]["arm"] >= rollout["arm_bound_seconds"] > 0
    assert rollout["seconds_by_limit"]["activity_slots"] == round(100_000 * 3 / 640, 1)
    scheduler = predict_rollout(100_000, 106, writes_per_twin=7, slot_seconds_per_twin=3, actions_per_twin=50,
                                activity_slots=640, backend_actions_per_second=500)  # fmt: skip
    assert scheduler["binding_limit"] == "backend_actions"


def test_the_spread_of_a_per_twin_cost_is_its_largest_over_its_smallest() -> None:
    def run(twins: int, slot_seconds: float, requests: float) -> dict[str, Any]:
        durable = {"activity_slot_seconds_per_twin": slot_seconds, "durable_actions_per_twin": 58.0}
        create = {"durable": durable, "arm_writes_per_twin": 12.0, "table_operations_per_twin": {"requests": requests}}
        return {"twins": twins, "subscriptions": 1, "create": create}

    costs = spread([run(1000, 4.0, 36.0), run(10_000, 4.4, 36.0)])
    assert costs["activity_slot_seconds"]["largest_over_smallest"] == 1.1
    assert costs["table_requests"]["largest_over_smallest"] == 1.0


def test_at_106_subscriptions_a_rollout_is_bound_by_the_writes_buckets_not_by_its_windows() -> None:
    # parallelism is a window per subscription: 106 windows of 100 keep 10,600 updates in flight, so
    # the busiest subscription's ~943 twins × 7 writes at 9.5/s bind, as they would with no window.
    # (One global window of 2,000 bound here: 100,000 ÷ 2,000 chains of 20 s, 1,000 s.)
    costs = {"writes_per_twin": 7, "slot_seconds_per_twin": 3, "actions_per_twin": 50, "activity_slots": 640,
             "backend_actions_per_second": None}  # fmt: skip
    rollout = predict_rollout(100_000, 106, **costs)
    assert rollout["parallelism"] == MAX_PARALLELISM
    waves = rollout["waves"]
    unwindowed = bound_seconds(waves, 106, 100_000, 7, rate=WRITE_BUCKET[1] * BUDGET_SHARE)
    assert rollout["seconds_by_limit"]["arm"] == round(unwindowed, 1)
    assert rollout["arm_bound_seconds"] == round(bound_seconds(waves, 106, 100_000, 7), 1)
    assert rollout["binding_limit"] == "arm"
