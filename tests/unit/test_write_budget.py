"""The per-subscription ARM write budget: a token bucket in front of the SDK."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from controlplane.arm.write_budget import MAX_WAIT_SECONDS, SubscriptionWriteBudget, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(method: str) -> PipelineRequest:  # type: ignore[type-arg]
    return PipelineRequest(HttpRequest(method, "https://management.azure.com/x"), PipelineContext(None))


def test_the_burst_is_free_then_writes_are_spaced_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # queued behind the previous waiter
    clock.now += 10  # refilled to the burst, no more
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() > 0


def test_the_policy_waits_for_writes_only() -> None:
    waits: list[float] = []
    policy = SubscriptionWriteBudget(TokenBucket(rate=2, burst=1, clock=FakeClock()), sleep=waits.append)
    for method in ("GET", "HEAD", "PUT", "GET", "POST", "DELETE"):
        policy.on_request(request(method))
    assert waits == [pytest.approx(0.5), pytest.approx(1.0)]  # PUT was free; POST and DELETE waited


def test_a_write_too_far_behind_is_refused_as_transient_and_costs_nothing() -> None:
    bucket = TokenBucket(rate=1, burst=1, clock=FakeClock())
    policy = SubscriptionWriteBudget(bucket, sleep=lambda s: None)
    for _ in range(int(MAX_WAIT_SECONDS) + 1):
        policy.on_request(request("PUT"))
    with pytest.raises(ServiceResponseTimeoutError):
        policy.on_request(request("PUT"))
    assert bucket.reserve() == pytest.approx(MAX_WAIT_SECONDS + 1)  # the refused write took no token
