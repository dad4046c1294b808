"""The benchmarks' bounds: the least time any implementation could take, so achieved/bound <= 1."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.fleet_rig import WRITE_BUCKET
from bench.rollouts import UPDATE_CHAIN_SECONDS, UPDATE_WRITES_AFTER_SITE_PUT, UPDATE_WRITES_PER_TWIN, bound_seconds


def wave_by_wave(sizes: list[int], subscriptions: int, parallelism: int, writes: float) -> float:
    """Each wave alone: its busiest subscription's chain through its window, or its throttle (a full
    bucket at every wave's start)."""
    return sum(
        max(
            math.ceil(math.ceil(n / subscriptions) / parallelism) * UPDATE_CHAIN_SECONDS,
            max(0.0, (math.ceil(n / subscriptions) * writes - 200) / 10),
        )
        for n in sizes
    )


def test_waves_that_follow_each_other_share_one_burst() -> None:
    # The first wave is its chain (20 s); the other three need 931 twins' writes with one burst of
    # 200, and the canary's publishes (4 writes a twin, after its 20 s site PUT) share it with them.
    assert bound_seconds([19, 76, 304, 551], 1, 500, 7.0) == pytest.approx(20 + (931 * 7 + 19 * 4 - 200) / 10)


def test_a_small_wave_takes_its_chain() -> None:
    assert bound_seconds([10], 1, 500, 7.0) == UPDATE_CHAIN_SECONDS
    # parallelism is per subscription: the busiest of 4 holds 300 of the 1,200 (too few writes to throttle).
    assert bound_seconds([1200], 4, 100, 0.5) == 3 * UPDATE_CHAIN_SECONDS  # three chains of its 100 places
    assert bound_seconds([1200], 4, 300, 0.5) == UPDATE_CHAIN_SECONDS  # its one window of 300 holds them all


@given(
    sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=6),
    subscriptions=st.integers(1, 8),
    parallelism=st.integers(1, 500),
    writes=st.floats(1, 12),
)
def test_the_bound_is_never_below_any_of_the_lower_bounds_it_takes_the_largest_of(
    sizes: list[int], subscriptions: int, parallelism: int, writes: float
) -> None:
    bound = bound_seconds(sizes, subscriptions, parallelism, writes)
    assert bound >= wave_by_wave(sizes, subscriptions, parallelism, writes) - 1e-9
    joint = (math.ceil(sum(sizes) / subscriptions) * writes - 200) / 10
    assert bound >= joint - 1e-9


class _Bucket:
    """ARM's writes bucket for one subscription, full at the start: one token per write."""

    def __init__(self) -> None:
        self.tokens, self.last = float(WRITE_BUCKET[0]), 0.0

    def take(self, at: float) -> float:
        at = max(at, self.last)
        self.tokens = min(WRITE_BUCKET[0], self.tokens + (at - self.last) * WRITE_BUCKET[1])
        if self.tokens < 1:
            at += (1 - self.tokens) / WRITE_BUCKET[1]
            self.tokens = 1.0
        self.tokens -= 1
        self.last = at
        return at


def one_feasible_rollout(sizes: list[int], subscriptions: int) -> float:
    """How long one possible rollout takes: each wave's twins start together, spread evenly; each sends
    its 3 site writes (the last is the 20 s site PUT), then its 4 publish writes; every write waits for
    its subscription's bucket, the wave's beginnings before its publishes. Whatever this takes, the
    least possible time is no more: so the bound must not be above it."""
    buckets = [_Bucket() for _ in range(subscriptions)]
    start = 0.0
    for size in sizes:
        end = start
        for index, bucket in enumerate(buckets):
            twins = size // subscriptions + (1 if index < size % subscriptions else 0)
            site_put_done = []
            for _ in range(twins):
                for _ in range(UPDATE_WRITES_PER_TWIN - UPDATE_WRITES_AFTER_SITE_PUT):
                    sent = bucket.take(start)
                site_put_done.append(sent + UPDATE_CHAIN_SECONDS)
            for ready in site_put_done:
                for _ in range(UPDATE_WRITES_AFTER_SITE_PUT):
                    end = max(end, bucket.take(ready))
                end = max(end, ready)
        start = end
    return start


@given(sizes=st.lists(st.integers(1, 700), min_size=1, max_size=5), subscriptions=st.integers(1, 4))
def test_the_bound_is_never_above_a_rollout_that_could_happen(sizes: list[int], subscriptions: int) -> None:
    assert (
        bound_seconds(sizes, subscriptions, max(sizes), UPDATE_WRITES_PER_TWIN)
        <= one_feasible_rollout(sizes, subscriptions) + 1e-6
    )


def test_the_bound_is_what_the_best_rollout_of_the_bench_plans_takes() -> None:
    # Beginnings first, then publishes, every write as soon as its bucket allows: the bench's plans
    # reach their bounds exactly, so the bound is the least time, not merely below it.
    for sizes, subscriptions in (([20, 80, 320, 580], 4), ([19, 76, 304, 551], 1)):
        bound = bound_seconds(sizes, subscriptions, max(sizes), UPDATE_WRITES_PER_TWIN)
        assert one_feasible_rollout(sizes, subscriptions) == pytest.approx(bound, abs=1e-6)
