"""Soft delete in the orchestration: the grace period is a durable timer, a restore fences the teardown,
and neither a crash at any point nor a replay deletes a restored twin or writes an audit record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from controlplane.domain.durable_names import Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.registry import default_registry
from controlplane.service.soft_delete import claim_pending_delete, claim_restore
from controlplane.settings import get_settings
from controlplane.workflows.job_inputs import job_for
from sandbox.durable import OrchestrationDriver, VirtualClock, check_replay_safety
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig, product_driver
from tests.workflows.twin_jobs import provision

KODY = "twin-kody-e89834"


@pytest.fixture
def rig(make_rig: Callable[..., ControlPlaneRig]) -> ControlPlaneRig:
    return make_rig(clock=VirtualClock(dt.datetime.now(dt.UTC)), settings={"CP_DELETE_GRACE_SECONDS": "3600"})


def _pending_job(rig: ControlPlaneRig) -> dict:
    row, fresh = claim_pending_delete(KODY, default_registry(), get_settings())
    assert fresh and row.delete_at is not None and row.status == Status.ACTIVE
    return job_for(row, get_settings()).to_input()


def _audit_records() -> int:
    return len(list(default_registry().audit._table.list_entities()))  # noqa: SLF001 - counting what is stored


def _driver(rig: ControlPlaneRig):  # type: ignore[no-untyped-def]
    """Fresh drivers whose virtual time goes on from the last one's (the ARM budget's time never runs
    backwards), starting from the rig's: the real time, so the grace period's timer is armed."""
    clocks = [rig.driver.clock]  # type: ignore[union-attr]

    def fresh() -> OrchestrationDriver:
        clock = VirtualClock(clocks[-1].now())
        clocks.append(clock)
        driver = product_driver(clock=clock)
        driver.client_binding = rig.driver.client_binding  # type: ignore[union-attr]
        return driver

    return fresh


def test_a_restored_twin_is_never_deleted_whatever_the_crash(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    job = _pending_job(rig)
    claim_restore(KODY, default_registry())  # restored before the grace period ended
    before = _audit_records()

    cases = check_replay_safety(
        _driver(rig), Orchestration.TEARDOWN, job, instance_id=job["job_id"], timeout=30, require_clean_calls=False
    )
    assert len(cases) >= 3
    assert all(case.resumed.output["status"] == "cancelled" for case in cases)
    row = default_registry().get(KODY)
    assert (row.status, row.delete_at) == (Status.ACTIVE, None)
    assert not [r for r in rig.arm.requests if r.method == "DELETE"]
    assert "rg-twin-kody" in rig.arm.resource_groups(SUBSCRIPTION_ID)
    assert _audit_records() == before  # orchestrations never record: replays cannot add a record


def test_a_pending_delete_ends_deleted_whatever_the_crash(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    job = _pending_job(rig)
    registry = default_registry()
    before = _audit_records()

    def back_to_pending() -> None:
        from controlplane.arm import resource_groups
        from controlplane.arm.clients import arm_clients
        from controlplane.domain.naming import twin_names

        resource_groups.ensure_resource_group(arm_clients(), twin_names("kody"), region="eastus2", tags={})
        registry.update(
            KODY, lambda row: row.with_changes(status=Status.ACTIVE, job_id=job["job_id"], delete_at=job["delete_at"])
        )

    cases = check_replay_safety(
        _driver(rig), Orchestration.TEARDOWN, job, instance_id=job["job_id"], before_each_run=back_to_pending,
        timeout=30, require_clean_calls=False,
    )  # fmt: skip
    assert registry.get(KODY).status == Status.DELETED
    assert _audit_records() == before
    # The grace period was a durable timer (TimerCreated) in the history, not a sleep.
    assert any(e.get("EventType") == 10 for e in cases[-1].resumed.history)
