"""GCRA: whatever the order and timing of reservations, no window ever holds more than the bucket allows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlplane.domain.write_budget import BucketShape, Refusal, Reservation, reserve

SHAPE = BucketShape(rate=10, burst=20)


def test_a_full_bucket_gives_its_burst_at_once_then_the_rate() -> None:
    tat, starts = 0.0, []
    for _ in range(22):
        booked = reserve(tat, 100.0, 1, SHAPE, horizon=60)
        assert isinstance(booked, Reservation)
        tat = booked.tat
        starts.append(booked.start)
    assert starts[:20] == [100.0] * 20
    assert starts[20:] == [pytest.approx(100.1), pytest.approx(100.2)]


def test_past_the_horizon_nothing_is_taken_and_the_retry_time_is_when_it_would_fit() -> None:
    booked = reserve(0.0, 0.0, 20, SHAPE, horizon=1)
    assert isinstance(booked, Reservation)
    refused = reserve(booked.tat, 0.0, 15, SHAPE, horizon=1)
    assert isinstance(refused, Refusal)
    assert refused.retry_at == pytest.approx(0.5)  # 15 tokens are there at 1.5 s; within 1 s of it at 0.5 s
    assert isinstance(reserve(booked.tat, refused.retry_at, 15, SHAPE, horizon=1), Reservation)


def test_more_than_the_bucket_holds_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        reserve(0.0, 0.0, 21, SHAPE, horizon=1e9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 5), st.integers(1, 20), st.floats(0, 30)),  # (gap before, count, horizon)
        min_size=1, max_size=60,
    )
)  # fmt: skip
def test_no_window_ever_holds_more_than_burst_plus_rate_times_its_length(
    requests: list[tuple[float, int, float]],
) -> None:
    tat, now, spent = 0.0, 0.0, []
    for gap, count, horizon in requests:
        now += gap
        booked = reserve(tat, now, count, SHAPE, horizon)
        if isinstance(booked, Reservation):
            assert now <= booked.start <= now + horizon + 1e-9
            tat = booked.tat
            spent.append((booked.start, count))
    # ARM's own bucket, refilled at the same rate, would have admitted every one of these.
    level, last = SHAPE.burst, 0.0
    for start, count in sorted(spent):
        level = min(SHAPE.burst, level + (start - last) * SHAPE.rate)
        last = start
        level -= count
        assert level >= -1e-6
