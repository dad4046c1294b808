"""Deletion protection: every twin's group is locked, a stray delete fails in ARM, our teardown still works."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from controlplane.arm import locks
from controlplane.arm.clients import arm_clients
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig
from tests.workflows.twin_jobs import provision, teardown

KODY = "twin-kody-e89834"


def _lock_id(group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}/providers/Microsoft.Authorization/locks/{locks.LOCK_NAME}"


def test_a_provisioned_twins_group_survives_an_out_of_band_delete(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    names = twin_names("kody")
    lock = rig.arm.get_resource(_lock_id(names.resource_group))
    assert lock is not None and lock["properties"]["level"] == "CanNotDelete"

    # What `az group delete` sends, through the same SDK: ARM refuses it for the lock.
    with pytest.raises(HttpResponseError) as refused:
        arm_clients().resources.resource_groups.begin_delete(names.resource_group).result()
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.code == "ScopeLocked"
    assert names.resource_group in rig.arm.resource_groups(SUBSCRIPTION_ID)
    assert default_registry().get(KODY).status.value == "active"


def test_the_teardown_removes_the_lock_then_deletes_the_group(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    names = twin_names("kody")
    before = len(rig.arm.requests)
    result = teardown(rig, KODY)
    assert result.status == "Completed", result.error
    deletes = [(r.route, r.status) for r in rig.arm.requests[before:] if r.method == "DELETE"]
    assert deletes == [("locks.delete", 200), ("resource_groups.delete", 202)]
    assert rig.arm.resource_groups(SUBSCRIPTION_ID) == {}
    assert rig.arm.get_resource(_lock_id(names.resource_group)) is None


def test_a_lock_put_back_by_hand_between_rounds_does_not_stop_the_teardown(rig: ControlPlaneRig) -> None:
    """The lock is removed in the same step as the delete, so a lock present at any start is removed first."""
    assert provision(rig, "kody").status == "Completed"
    names = twin_names("kody")
    locks.ensure_delete_lock(arm_clients(), names)  # again: idempotent, the same one lock
    assert len([rid for rid in rig.arm.resources if "/locks/" in rid.lower()]) == 1
    assert teardown(rig, KODY).status == "Completed"
    assert rig.arm.resource_groups(SUBSCRIPTION_ID) == {}
