"""The pipeline policy every ARM client carries: requests are paid for, from a grant or the budget."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from controlplane.arm.write_budget import MAX_WAIT_SECONDS, SubscriptionWriteBudget, TokenBucket, spending

SUB = "00000000-0000-4000-8000-000000000001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(method: str) -> PipelineRequest:  # type: ignore[type-arg]
    return PipelineRequest(HttpRequest(method, "https://management.azure.com/x"), PipelineContext(None))


def process_policy(
    clock: FakeClock, waits: list[float], *, rate: float = 2, burst: float = 1
) -> SubscriptionWriteBudget:
    buckets = {"writes": TokenBucket(rate, burst, clock=clock), "deletes": TokenBucket(rate, burst, clock=clock)}
    return SubscriptionWriteBudget(
        SUB, lambda bucket: buckets[bucket].reserve(max_wait=MAX_WAIT_SECONDS), sleep=waits.append, clock=clock
    )


def test_the_burst_is_free_then_writes_are_spaced_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # queued behind the previous waiter
    clock.now += 10  # refilled to the burst, no more
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() > 0


def test_reads_are_free_and_deletes_draw_on_their_own_bucket() -> None:
    waits: list[float] = []
    policy = process_policy(FakeClock(), waits)
    for method in ("GET", "HEAD", "PUT", "GET", "POST", "DELETE", "PATCH"):
        policy.on_request(request(method))
    # PUT and DELETE each found a full bucket; POST and PATCH queued behind the PUT in the writes bucket.
    assert waits == [pytest.approx(0.5), pytest.approx(1.0)]


def test_a_request_too_far_behind_is_refused_as_transient() -> None:
    waits: list[float] = []
    policy = process_policy(FakeClock(), waits, rate=1)
    for _ in range(int(MAX_WAIT_SECONDS) + 1):
        policy.on_request(request("PUT"))
    with pytest.raises(ServiceResponseTimeoutError):
        policy.on_request(request("PUT"))


def test_requests_booked_ahead_are_spent_first_then_the_budget_pays() -> None:
    clock, waits, charged = FakeClock(), [], []  # type: ignore[var-annotated]
    policy = SubscriptionWriteBudget(SUB, lambda bucket: charged.append(bucket) or 0.0, sleep=waits.append, clock=clock)
    grant = {"subscription_id": SUB.upper(), "bucket": "writes", "count": 2, "stale_at": clock.now + 30}
    with spending(grant):
        for method in ("PUT", "GET", "POST", "DELETE", "PUT"):
            policy.on_request(request(method))
    policy.on_request(request("PUT"))  # outside the activity: no grant
    assert charged == ["deletes", "writes", "writes"]  # the two booked writes cost nothing more


def test_a_grant_is_not_spent_when_stale_or_for_another_subscription() -> None:
    clock, charged = FakeClock(), []  # type: ignore[var-annotated]
    policy = SubscriptionWriteBudget(SUB, lambda bucket: charged.append(bucket) or 0.0, clock=clock)
    other = {"subscription_id": "11111111-0000-4000-8000-000000000001", "bucket": "writes", "count": 5, "stale_at": 2e9}
    with spending(other):
        policy.on_request(request("PUT"))
    stale = {"subscription_id": SUB, "bucket": "writes", "count": 5, "stale_at": clock.now - 1}
    with spending(stale):
        policy.on_request(request("PUT"))
    with spending(None):
        policy.on_request(request("PUT"))
    assert charged == ["writes", "writes", "writes"]
