"""Teardown: the group goes, the row stays (deleted), and nothing is left behind — even mid-provision."""

from __future__ import annotations

import requests

from controlplane.arm import resource_groups
from controlplane.arm.clients import arm_clients
from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from sandbox.arm import ArmStandIn, Fault, Gate
from sandbox.durable import OrchestrationDriver, WallClock, check_replay_safety
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig, product_driver
from tests.workflows.twin_jobs import accept_twin, begin_teardown, provision, teardown

KODY = "twin-kody-e89834"


def test_teardown_deletes_the_group_and_keeps_the_row_as_deleted(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    url = default_registry().get(KODY).url
    result = teardown(rig, KODY)
    assert result.status == "Completed", result.error
    assert result.output == {"status": "deleted", "cloud_id": KODY}
    assert rig.arm.resource_groups(SUBSCRIPTION_ID) == {}
    assert not [rid for rid in rig.arm.resources if "rg-twin-kody" in rid.lower()]
    row = default_registry().get(KODY)
    assert row.status == Status.DELETED and row.url is None
    assert requests.get(url, timeout=5).status_code == 502  # the app is gone
    counts = default_registry().counts()
    assert (counts["deleted"], counts["active"], counts["total"]) == (1, 0, 1)
    # The lock goes first, in the same step, then the group (controlplane.arm.locks).
    assert [r.route for r in rig.arm.requests if r.method == "DELETE"] == ["locks.delete", "resource_groups.delete"]


def test_a_slow_delete_is_polled_with_durable_timers(make_rig) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(arm=ArmStandIn(delete_polls=3))
    assert provision(rig, "kody").status == "Completed"
    result = teardown(rig, KODY)
    assert result.status == "Completed", result.error
    polls = rig.driver.executions(Activity.POLL_DELETE)
    assert len(polls) == 4  # three "still deleting", then done
    timers = [e for e in result.history if e.get("EventType") == 10]
    assert len(timers) == 4  # a durable timer before every poll: no activity waits on ARM
    assert max(len(rig.driver.executions(name)) for name in (Activity.BEGIN_DELETE_RESOURCE_GROUP,)) == 1


def test_a_twin_whose_group_never_existed_is_still_deleted(rig: ControlPlaneRig) -> None:
    rig.arm.inject(
        Fault(
            route="resource_groups.create_or_update", kind="error", status=403, code="AuthorizationFailed", times=None
        )
    )
    assert provision(rig, "kody").status == "Failed"
    rig.arm.clear_faults()
    result = teardown(rig, KODY)
    assert result.status == "Completed", result.error
    assert default_registry().get(KODY).status == Status.DELETED


def test_throttled_delete_still_completes(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    rig.arm.inject(Fault(route="resource_groups.delete", kind="429", times=2, retry_after=1))
    assert teardown(rig, KODY).status == "Completed"
    assert default_registry().get(KODY).status == Status.DELETED


def test_a_failed_delete_ends_errored_with_the_step(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    rig.arm.inject(
        Fault(
            route="resource_groups.delete",
            kind="lro_failed",
            code="ResourceGroupDeletionBlocked",
            message="locked",
            times=None,
        )
    )
    result = teardown(rig, KODY)
    assert result.status == "Failed"
    row = default_registry().get(KODY)
    assert row.status == Status.ERRORED
    assert row.error is not None and (row.error["step"], row.error["code"]) == (
        "delete_resource_group",
        "ResourceGroupDeletionBlocked",
    )


def test_teardown_during_provisioning_leaves_no_resource_behind(make_rig) -> None:  # type: ignore[no-untyped-def]
    # Real (sped-up) time, so the two orchestrations truly overlap.
    rig: ControlPlaneRig = make_rig(clock=WallClock(speed=50))
    # The storage create is held at the stand-in until the test opens the gate: the teardown begins
    # while it is certainly in flight, whatever the machine's load (no sleep that must land in a window).
    gate = Gate()
    rig.arm.inject(Fault(route="storage_accounts.create", kind="hang", gate=gate, times=1))
    job = accept_twin("kody")
    rig.driver.start(Orchestration.PROVISION, job, instance_id=job["job_id"])
    assert gate.entered.wait(60), "provisioning never sent its storage create"
    assert not any(r.route == "storage_accounts.create" for r in rig.arm.requests)  # logged once answered

    teardown_job = begin_teardown(KODY)
    assert teardown_job["previous_job_id"] == job["job_id"]
    rig.driver.start(Orchestration.TEARDOWN, teardown_job, instance_id=teardown_job["job_id"])
    gate.open()
    result = rig.driver.wait(teardown_job["job_id"], timeout=60)
    provisioning = rig.driver.wait(job["job_id"], timeout=60)

    assert result.status == "Completed", result.error
    assert provisioning.status == "Completed" and provisioning.output["status"] == "cancelled"
    assert rig.arm.resources == {} or not [rid for rid in rig.arm.resources if "rg-twin-kody" in rid.lower()]
    assert rig.arm.resource_groups(SUBSCRIPTION_ID) == {}
    # The fence stopped provisioning before it built the Function App.
    assert not [r for r in rig.arm.requests if r.route in ("server_farms.create_or_update", "sites.create_or_update")]
    # ...and the group was deleted only after the provisioning job had finished.
    delete_at = next(i for i, r in enumerate(rig.arm.requests) if r.route == "resource_groups.delete")
    last_put = max(i for i, r in enumerate(rig.arm.requests) if r.method == "PUT")
    assert last_put < delete_at
    assert default_registry().get(KODY).status == Status.DELETED


def test_teardown_survives_a_crash_after_any_history_event(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    job = begin_teardown(KODY)
    registry = default_registry()

    def back_to_deleting() -> None:
        # The same world for every crash case: the twin's group exists again, the row is deleting.
        names = twin_names("kody")
        resource_groups.ensure_resource_group(arm_clients(), names, region="eastus2", tags={"twin": "kody"})
        registry.update(KODY, lambda row: row.with_changes(status=Status.DELETING, job_id=job["job_id"]))

    def driver() -> OrchestrationDriver:
        fresh = product_driver()
        fresh.client_binding = rig.driver.client_binding  # type: ignore[union-attr]
        return fresh

    # A begin_delete redelivered after a crash finds the group already gone and skips the polls:
    # the same end by a shorter path, so only the upper bound on executions applies.
    cases = check_replay_safety(
        driver, Orchestration.TEARDOWN, job, instance_id=job["job_id"], before_each_run=back_to_deleting,
        timeout=30, require_clean_calls=False,
    )  # fmt: skip
    assert len(cases) >= 8
    assert registry.get(KODY).status == Status.DELETED
