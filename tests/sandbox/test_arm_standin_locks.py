"""The stand-in's management locks, through the real ManagementLockClient (locks.json 2020-05-01)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.locks import ManagementLockClient
from azure.mgmt.resource.resources import ResourceManagementClient

from sandbox.arm import ArmStandIn
from tests.sandbox.test_arm_standin import SUBSCRIPTION, FakeCredential

SUBSCRIPTION_ID = SUBSCRIPTION


@pytest.fixture
def arm():  # type: ignore[no-untyped-def]
    with ArmStandIn() as stand_in:
        yield stand_in


def _clients(arm: ArmStandIn) -> tuple[ResourceManagementClient, ManagementLockClient]:
    options = {
        "base_url": arm.base_url,
        "credential_scopes": ["https://management.azure.com/.default"],
        "connection_verify": arm.ca_path,
        "polling_interval": 0,
    }
    credential = FakeCredential()
    return (
        ResourceManagementClient(credential, SUBSCRIPTION, **options),
        ManagementLockClient(credential, SUBSCRIPTION, **options),
    )


def test_a_locked_group_refuses_delete_with_scope_locked_until_the_lock_goes(arm: ArmStandIn) -> None:
    resources, locks = _clients(arm)
    resources.resource_groups.create_or_update("rg-a", {"location": "eastus2"})
    lock = locks.management_locks.create_or_update_at_resource_group_level("rg-a", "keep", {"level": "CanNotDelete"})
    assert lock.level == "CanNotDelete"
    with pytest.raises(HttpResponseError) as refused:
        resources.resource_groups.begin_delete("rg-a", polling_interval=0).result()
    assert refused.value.status_code == 409 and refused.value.error.code == "ScopeLocked"
    assert "rg-a" in arm.resource_groups(SUBSCRIPTION_ID)

    locks.management_locks.delete_at_resource_group_level("rg-a", "keep")
    with pytest.raises(ResourceNotFoundError):
        locks.management_locks.get_at_resource_group_level("rg-a", "keep")
    resources.resource_groups.begin_delete("rg-a", polling_interval=0).result()
    assert arm.resource_groups(SUBSCRIPTION_ID) == {}


def test_a_lock_needs_a_level_and_a_group(arm: ArmStandIn) -> None:
    resources, locks = _clients(arm)
    with pytest.raises(ResourceNotFoundError):
        locks.management_locks.create_or_update_at_resource_group_level("rg-none", "keep", {"level": "CanNotDelete"})
    resources.resource_groups.create_or_update("rg-a", {"location": "eastus2"})
    with pytest.raises(HttpResponseError) as refused:
        locks.management_locks.create_or_update_at_resource_group_level("rg-a", "keep", {"level": "NotSpecified"})
    assert refused.value.status_code == 400
