"""The benchmarks' bounds: the least time any implementation could take, so achieved/bound <= 1."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.rollouts import UPDATE_CHAIN_SECONDS, bound_seconds


def wave_by_wave(sizes: list[int], subscriptions: int, parallelism: int, writes: float) -> float:
    """Each wave alone: its chain or its throttle (a full bucket at every wave's start)."""
    return sum(
        max(
            math.ceil(n / parallelism) * UPDATE_CHAIN_SECONDS,
            max(0.0, (math.ceil(n / subscriptions) * writes - 200) / 10),
        )
        for n in sizes
    )


def test_waves_that_follow_each_other_share_one_burst() -> None:
    # The first wave is its chain (20 s); the other three need 931 twins' writes with one burst of 200.
    assert bound_seconds([19, 76, 304, 551], 1, 500, 7.0) == pytest.approx(20 + (931 * 7 - 200) / 10)


def test_a_small_wave_takes_its_chain() -> None:
    assert bound_seconds([10], 1, 500, 7.0) == UPDATE_CHAIN_SECONDS
    assert bound_seconds([1200], 4, 500, 1.0) == 3 * UPDATE_CHAIN_SECONDS  # three chains of 500 places


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
