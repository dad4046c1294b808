"""No granted role is unused: every role id infra/ grants maps to the code path (or the host setting)
that needs it, and each named path exists. A role added to infra/ without a use, or a use that no longer
exists, fails here. (test_roles.py proves the pool's three by a real provisioning run.)"""

from __future__ import annotations

import importlib
import re

import pytest

from tests.infra.deployment import INFRA

_GUID = re.compile(r"'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'")

# role id -> (what it is, the code symbols that need it, the app settings through which the Functions
# host uses it). Role ids: Learn, role-based-access-control/built-in-roles.
ROLE_USES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": (
        "Storage Blob Data Owner (own account)",
        (),
        # Host storage by identity needs it (Learn: functions-reference, "Connecting to host storage
        # with an identity"), and the Flex deployment container is read with it.
        ("AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__credential"),
    ),
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": (
        "Storage Queue Data Contributor (own account; the task hub's account)",
        (),
        # Host storage by identity (the same three roles the code gives a Flex twin's host), and Durable's
        # control and work-item queues on the task hub's account.
        ("AzureWebJobsStorage__queueServiceUri", "TaskHubStorage__queueServiceUri"),
    ),
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": (
        "Storage Table Data Contributor (own account; the task hub's account)",
        ("controlplane.registry.factory:registry_from_settings",),  # the registry by CP_TABLE_ENDPOINT
        # ... host storage, and Durable's History and Instances tables on the task hub's account.
        ("CP_TABLE_ENDPOINT", "AzureWebJobsStorage__tableServiceUri", "TaskHubStorage__tableServiceUri"),
    ),
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": (
        "Storage Blob Data Contributor (the task hub's account, Durable on Azure Storage)",
        (),
        # Durable's partition leases and large messages (Learn: durable-functions-azure-storage-provider,
        # "Identity-based connections": Blob, Queue and Table Data Contributor on a non-host account).
        ("TaskHubStorage__blobServiceUri", "TaskHubStorage__credential"),
    ),
    "3913510d-42f4-4e42-8a64-420c390055eb": (
        "Monitoring Metrics Publisher (own Application Insights, local auth off)",
        ("controlplane.telemetry.setup:setup_telemetry",),
        ("APPLICATIONINSIGHTS_AUTHENTICATION_STRING",),
    ),
    "0ad04412-c4d5-4796-b79c-f76d14c8d402": (
        "Durable Task Data Contributor (the scheduler, when chosen)",
        (),
        ("DURABLE_TASK_SCHEDULER_CONNECTION_STRING",),
    ),
    "d5a91429-5739-47e2-a06b-3470a27159e7": (
        "EventGrid Data Sender (the topic, when chosen)",
        ("controlplane.events.eventgrid:publish_to_topic",),
        ("CP_EVENTGRID_ENDPOINT",),
    ),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": (
        "Contributor (each pool subscription)",
        (
            "controlplane.arm.resource_groups:ensure_resource_group",
            "controlplane.arm.storage_accounts:storage_connection_string",
            "controlplane.arm.function_apps:begin_plan",
            "controlplane.arm.function_apps:begin_site",
            "controlplane.arm.run_from_package:publish",
            "controlplane.arm.one_deploy:begin",
        ),
        (),
    ),
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": (
        "Role Based Access Control Administrator, ABAC-constrained (each pool subscription)",
        ("controlplane.arm.role_assignments:ensure_role_assignment",),
        (),
    ),
    "28bf596f-4eb7-45ce-b5bc-6cf482fec137": (
        "Locks Contributor (each pool subscription): the CanNotDelete lock on each twin's group",
        ("controlplane.arm.locks:ensure_delete_lock", "controlplane.arm.locks:remove_delete_lock"),
        (),
    ),
}


def _granted_role_ids() -> set[str]:
    return {guid for path in INFRA.rglob("*.bicep") for guid in _GUID.findall(path.read_text())}


def test_every_role_id_in_infra_has_a_use_and_every_use_is_a_role_infra_grants() -> None:
    assert _granted_role_ids() == set(ROLE_USES)


@pytest.mark.parametrize("role", sorted(ROLE_USES), ids=lambda role: ROLE_USES[role][0].split(" (")[0])
def test_each_use_exists(role: str) -> None:
    _, symbols, settings = ROLE_USES[role]
    assert symbols or settings, role
    for symbol in symbols:
        module, _, attribute = symbol.partition(":")
        assert callable(getattr(importlib.import_module(module), attribute)), symbol
    written = (INFRA / "app" / "app-settings.bicep").read_text()
    for setting in settings:
        assert re.search(rf"\b{re.escape(setting)}\s*:", written), (
            f"{setting} is not among the app settings infra writes"
        )
