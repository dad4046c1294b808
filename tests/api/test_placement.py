"""Placement across a pool of subscriptions: spread, never overfilled, slots returned, right teardown."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest

from sandbox.arm import ArmStandIn, Fault, Throttle
from sandbox.durable.clock import WallClock
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api

SUB_A = "aaaaaaaa-0000-4000-8000-000000000001"
SUB_B = "bbbbbbbb-0000-4000-8000-000000000002"
PER_REGION = 3


def pool(*entries: tuple[str, list[str]]) -> str:
    return json.dumps([{"subscription_id": s, "regions": r, "max_twins_per_region": PER_REGION} for s, r in entries])


@pytest.fixture
def fleet(make_rig: Callable[..., ControlPlaneRig]) -> Api:
    rig = make_rig(settings={"CP_SUBSCRIPTION_POOL": pool((SUB_A, ["eastus2"]), (SUB_B, ["eastus2", "westeurope"]))})
    return Api(rig)


def names(count: int, prefix: str = "t") -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


def test_twins_spread_over_the_pool_and_a_full_region_says_so(fleet: Api) -> None:
    jobs = []
    for name in names(2 * PER_REGION):
        answer = fleet.post({"name": name, "owner": "github:a", "region": "eastus2"})
        assert answer.status == 202, answer.body
        jobs.append(answer.json["job_id"])
    rows = fleet.list().json["items"]
    assert Counter(r["subscription_id"] for r in rows) == {SUB_A: PER_REGION, SUB_B: PER_REGION}

    full = fleet.post({"name": "onemore", "owner": "github:a", "region": "eastus2"})
    assert full.status == 503
    problem = full.json
    assert "eastus2" in problem["detail"] and "CP_SUBSCRIPTION_POOL" in problem["detail"]
    assert sorted((p["slot"], p["limit"], p["count"]) for p in problem["places"]) == [
        (f"{SUB_A}:eastus2", PER_REGION, PER_REGION), (f"{SUB_B}:eastus2", PER_REGION, PER_REGION),
    ]  # fmt: skip
    assert fleet.get("twin-onemore-" + _h("onemore")).status == 404  # nothing half-created

    # Without a region, the twin goes where there is room.
    spilled = fleet.post({"name": "onemore", "owner": "github:a"})
    assert spilled.status == 202
    row = fleet.get("twin-onemore-" + _h("onemore")).json
    assert (row["region"], row["subscription_id"]) == ("westeurope", SUB_B)
    for job in [*jobs, spilled.json["job_id"]]:
        assert fleet.wait(job)["runtime_status"] == "Completed"


def test_twins_whose_hash_names_one_subscription_are_still_spread_evenly(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    """even5..even8 all hash to the pool's first subscription: the hash alone would put all four there."""
    roomy = [{"subscription_id": s, "regions": ["eastus2"], "max_twins_per_region": 10} for s in (SUB_A, SUB_B)]
    api = Api(make_rig(settings={"CP_SUBSCRIPTION_POOL": json.dumps(roomy)}))
    for name in ("even5", "even6", "even7", "even8"):
        assert api.post({"name": name, "owner": "github:a"}).status == 202
    rows = api.list().json["items"]
    assert Counter(r["subscription_id"] for r in rows) == {SUB_A: 2, SUB_B: 2}


def test_a_deleted_twin_gives_its_place_back(fleet: Api) -> None:
    for name in names(PER_REGION, "w"):
        fleet.wait(fleet.post({"name": name, "owner": "github:a", "region": "westeurope"}).json["job_id"])
    assert fleet.post({"name": "late", "owner": "github:a", "region": "westeurope"}).status == 503
    fleet.wait(fleet.delete("twin-w0-" + _h("w0")).json["job_id"])
    assert fleet.post({"name": "late", "owner": "github:a", "region": "westeurope"}).status == 202


def test_each_twin_is_built_and_torn_down_in_its_own_subscription(fleet: Api) -> None:
    for name in names(4):
        fleet.wait(fleet.post({"name": name, "owner": "github:a", "region": "eastus2"}).json["job_id"])
    rows = {r["cloud_id"]: r for r in fleet.list().json["items"]}
    assert {r["subscription_id"] for r in rows.values()} == {SUB_A, SUB_B}
    for cloud_id in rows:
        fleet.wait(fleet.delete(cloud_id).json["job_id"])
    arm = fleet.rig.arm
    assert arm.resource_groups(SUB_A) == {} and arm.resource_groups(SUB_B) == {}
    for cloud_id, row in rows.items():
        group = f"rg-twin-{row['name']}"
        calls = [r for r in arm.requests if f"/resourcegroups/{group}".lower() in r.path.lower()]
        assert calls and all(f"/subscriptions/{row['subscription_id']}/" in r.path for r in calls), cloud_id
        assert any(r.method == "DELETE" for r in calls)


def test_an_early_failure_gives_the_place_back(fleet: Api) -> None:
    arm = fleet.rig.arm
    arm.inject(
        Fault(
            route="resource_groups.create_or_update",
            kind="error",
            status=403,
            code="AuthorizationFailed",
            times=PER_REGION,
        )
    )
    failed = [
        fleet.post({"name": n, "owner": "github:a", "region": "westeurope"}).json["job_id"]
        for n in names(PER_REGION, "f")
    ]
    for job in failed:
        assert fleet.wait(job)["runtime_status"] == "Failed"
    # Nothing was created for them, so westeurope has all its room again.
    ok = [fleet.post({"name": n, "owner": "github:a", "region": "westeurope"}) for n in names(PER_REGION, "g")]
    assert [a.status for a in ok] == [202] * PER_REGION
    for answer in ok:
        fleet.wait(answer.json["job_id"])


def test_throttled_arm_answers_429_and_provisioning_still_completes(make_rig: Callable[..., ControlPlaneRig]) -> None:
    # A tiny write bucket (5 burst, 3/s) and a control plane that does not pace itself.
    arm = ArmStandIn(throttle=Throttle(writes=(5, 3.0)))
    rig = make_rig(arm=arm, settings={"CP_ARM_WRITES_PER_SECOND": "1000", "CP_ARM_WRITE_BURST": "1000"})
    api = Api(rig)
    jobs = [api.post({"name": n, "owner": "github:a"}).json["job_id"] for n in names(3)]
    for job in jobs:
        assert api.wait(job, timeout=120)["runtime_status"] == "Completed"
    assert sum(arm.throttled.values()) > 0
    throttled = [r for r in arm.requests if r.status == 429]
    assert throttled


def test_a_paced_control_plane_stays_under_the_throttle(make_rig: Callable[..., ControlPlaneRig]) -> None:
    # ARM's buckets, the budget and the orchestrations keep one time: the driver's clock (real time
    # here, as on Azure). A write sent before the budget said would find ARM's bucket not yet
    # refilled. A step's later writes go out when its earlier ones are done, not at its booked time,
    # so the budget keeps a margin under ARM's burst (as its defaults do: 190 of 200).
    clock = WallClock()
    arm = ArmStandIn(throttle=Throttle(writes=(5, 3.0), clock=lambda: clock.now().timestamp()))
    settings = {"CP_ARM_WRITES_PER_SECOND": "2.5", "CP_ARM_WRITE_BURST": "4", "CP_ARM_BUDGET_BLOCK": "1"}
    rig = make_rig(arm=arm, clock=clock, settings=settings)
    api = Api(rig)
    jobs = [api.post({"name": n, "owner": "github:a"}).json["job_id"] for n in names(3)]
    for job in jobs:
        assert api.wait(job, timeout=120)["runtime_status"] == "Completed"
    assert arm.throttled.get("resource_groups.create_or_update", 0) == 0
    assert not [r for r in arm.requests if r.status == 429 and r.method in ("PUT", "POST")]


def _h(name: str) -> str:
    from controlplane.domain.naming import hash6

    return hash6(name)


def test_rows_from_before_the_pool_keep_working_in_the_default_subscription(api: Api) -> None:
    """A row written by a single-subscription control plane has no subscription_id."""
    import uuid

    from controlplane.domain.lifecycle import Status
    from controlplane.domain.twin import Twin, utc_now
    from controlplane.registry import default_registry
    from sandbox.rig import SUBSCRIPTION_ID

    now = utc_now()
    default_registry().create(
        Twin(
            cloud_id="twin-kody-e89834", name="kody", owner="github:a", region="eastus2",
            runtime_target="azure-consumption-py311", deploy_ref="main", status=Status.ERRORED,
            job_id=uuid.uuid4().hex, created_at=now, last_seen=now, subscription_id=None,
        )
    )  # fmt: skip
    retried = api.post({"name": "kody", "owner": "github:a"})
    assert retried.status == 202
    assert api.wait(retried.json["job_id"])["runtime_status"] == "Completed"
    assert api.get("twin-kody-e89834").json["subscription_id"] == SUBSCRIPTION_ID
    api.wait(api.delete("twin-kody-e89834").json["job_id"])
    paths = [r.path for r in api.rig.arm.requests if "rg-twin-kody" in r.path.lower()]
    assert paths and all(f"/subscriptions/{SUBSCRIPTION_ID}/" in p for p in paths)
