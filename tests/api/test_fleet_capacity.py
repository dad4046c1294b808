"""GET /api/cp/fleet/capacity: the ARM budget's backlog and placement, for operators, in the contract."""

from __future__ import annotations

from controlplane.domain.write_budget import BucketShape, reserve
from controlplane.service.fleet_capacity import bucket_state
from tests.api.conftest import Api
from tests.api.test_doorman import alice, doorman, idp  # noqa: F401 - fixtures, shared with the doorman tests

SHAPE = BucketShape(rate=10, burst=200)


def test_a_bucket_booked_past_full_shows_its_queue_and_its_wait() -> None:
    now = 1000.0
    tat = 0.0
    for _ in range(3):  # 300 requests: the 200 of a full bucket, then 100 booked for later
        booked = reserve(tat, now, 100, SHAPE, horizon=60)
        assert not hasattr(booked, "retry_at")
        tat = booked.tat  # type: ignore[union-attr]
    state = bucket_state(tat, now, SHAPE)
    assert (state["available"], state["queued_requests"], state["wait_seconds"]) == (0, 100, 10)
    assert bucket_state(tat, now + 30, SHAPE)["available"] == 200  # refilled: nothing owed
    assert bucket_state(0.0, now, SHAPE) == {**state, "available": 200, "queued_requests": 0, "wait_seconds": 0}


def test_operators_see_placement_move_with_a_create_and_owners_are_refused(doorman: Api, alice: Api) -> None:
    before = doorman.request("GET", "/api/cp/fleet/capacity")
    assert before.status == 200
    (subscription,) = before.json["subscriptions"]
    eastus2 = next(r for r in subscription["regions"] if r["region"] == "eastus2")
    assert (eastus2["twins"], subscription["resource_groups"]) == (0, 0)
    doorman.wait(doorman.post({"name": "kody", "owner": "github:a"}).json["job_id"])
    after = doorman.request("GET", "/api/cp/fleet/capacity").json["subscriptions"][0]
    assert next(r for r in after["regions"] if r["region"] == "eastus2")["twins"] == 1
    assert after["resource_groups"] == 1
    writes = after["arm_budget"]["writes"]
    assert writes["available"] < writes["burst"]  # the create spent writes
    assert alice.request("GET", "/api/cp/fleet/capacity").status == 403
