"""The fleet model names the limit that takes longest, and each limit's time is its own arithmetic."""

from __future__ import annotations

from bench.scale_model import predict


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
