"""The Durable task hub on a storage account of its own (issue 29): with Durable on Azure Storage the
task hub gets its own account, reached by identity through its own connection, with Durable's three
data roles scoped to that account alone; the registry and the host stay on the app's account; with
the Durable Task Scheduler there is no such account at all.

Learn, durable-functions-azure-storage-provider: "Storage account selection" (for performance-sensitive
workloads, an account other than AzureWebJobsStorage), "Connections" and "Identity-based connections"
(storageProvider.connectionName names a prefix of __blobServiceUri/__queueServiceUri/__tableServiceUri;
Storage Blob, Queue and Table Data Contributor on the account)."""

from __future__ import annotations

import json
import re

import pytest

from controlplane.settings import load_settings
from tests.infra.bicep import BicepFile, Evaluator, properties, string_literal
from tests.infra.deployment import (
    BASE_ENV,
    IDENTITY_CLIENT_ID,
    INFRA,
    MODULE_OUTPUTS,
    ROOT,
    TASK_HUB_ACCOUNT,
    app_settings,
    main_evaluator,
)
from tests.infra.test_roles import assignments

ON_STORAGE = BASE_ENV
ON_SCHEDULER = {**BASE_ENV, "CP_USE_DURABLE_TASK_SCHEDULER": "true"}
CONNECTION_NAME = "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName"
SERVICES = ("blob", "queue", "table")
# Built-in role ids (Learn: role-based-access-control/built-in-roles).
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"


def deployed(env: dict[str, str], module: str) -> bool:
    """Whether main.bicep deploys this module for this azd environment (its `if (...)` evaluated)."""
    main = main_evaluator(env)
    declaration = main.file.modules[module]
    assert declaration.value is not None and declaration.value.type == "if_statement", module
    return bool(main.eval(declaration.value.named_children[0]))


def registry_and_host_endpoints() -> set[str]:
    return {MODULE_OUTPUTS[f"storage.outputs.{service}Endpoint"] for service in SERVICES}


def test_durable_on_azure_storage_gets_a_task_hub_account_that_is_not_the_registrys() -> None:
    assert deployed(ON_STORAGE, "taskHubStorage") and deployed(ON_STORAGE, "taskHubRoles")
    main = main_evaluator(ON_STORAGE)
    # The same hardened account module (shared keys off: test_no_keys.py), with no container or table.
    assert main.file.modules["taskHubStorage"].type_name == main.file.modules["storage"].type_name
    task_hub = main.module_params("taskHubStorage")
    assert not {"tableNames", "deploymentContainerName"} & set(task_hub)
    registry = main.module_params("storage")
    account = BicepFile(INFRA / "app" / "storage.bicep")
    assert Evaluator(account, task_hub).var("deploymentContainerNames") == []
    assert Evaluator(account, registry).var("deploymentContainerNames") == [registry["deploymentContainerName"]]
    assert task_hub["name"] != registry["name"]
    for name in (task_hub["name"], registry["name"]):
        assert re.fullmatch(r"[a-z0-9]{3,24}", name), name  # Learn: storage account names
    assert main.output("CONTROL_PLANE_TASK_HUB_STORAGE_ACCOUNT") == TASK_HUB_ACCOUNT


def test_durable_reaches_the_task_hub_account_by_identity_and_the_registry_stays_on_its_own() -> None:
    written = app_settings(ON_STORAGE)
    prefix = written[CONNECTION_NAME]
    assert prefix not in written, "an exact match would be read as a connection string (Learn, Connections)"
    assert written[f"{prefix}__credential"] == "managedidentity"
    assert written[f"{prefix}__clientId"] == IDENTITY_CLIENT_ID  # Durable takes clientId for a user-assigned identity
    task_hub = {written[f"{prefix}__{service}ServiceUri"] for service in SERVICES}
    assert task_hub == {MODULE_OUTPUTS[f"taskHubStorage.outputs.{service}Endpoint"] for service in SERVICES}
    assert not task_hub & registry_and_host_endpoints()
    # The registry and the host's own storage stay on the app's account.
    settings = load_settings(written)
    assert settings.table_endpoint == MODULE_OUTPUTS["storage.outputs.tableEndpoint"]
    assert {
        written[f"AzureWebJobsStorage__{service}ServiceUri"] for service in SERVICES
    } == registry_and_host_endpoints()


def test_with_the_durable_task_scheduler_there_is_no_task_hub_account() -> None:
    assert not deployed(ON_SCHEDULER, "taskHubStorage") and not deployed(ON_SCHEDULER, "taskHubRoles")
    written = app_settings(ON_SCHEDULER)
    assert CONNECTION_NAME not in written
    assert not [name for name in written if name.startswith("TaskHubStorage__")]
    assert main_evaluator(ON_SCHEDULER).output("CONTROL_PLANE_TASK_HUB_STORAGE_ACCOUNT") == ""


def test_host_json_names_no_durable_connection() -> None:
    # The extension resolves storageProvider.connectionName before connectionStringName
    # (azure-functions-durable-extension FunctionsScale/TriggerMetadataExtensions.cs ResolveConnectionName):
    # a connectionName in host.json would outrank the scheduler's connectionStringName, so the
    # deployment names the connection per backend, and a local run keeps AzureWebJobsStorage (Azurite).
    provider = json.loads((ROOT / "host.json").read_text())["extensions"]["durableTask"]["storageProvider"]
    assert not {"connectionName", "connectionStringName"} & set(provider)


def test_the_task_hub_roles_are_durables_three_on_its_account_alone() -> None:
    file = BicepFile(INFRA / "app" / "task-hub-roles.bicep")
    evaluator = Evaluator(file, {"storageAccountName": TASK_HUB_ACCOUNT, "principalId": "p"})
    assert set(evaluator.var("taskHubRoles")) == {
        STORAGE_BLOB_DATA_CONTRIBUTOR,
        STORAGE_QUEUE_DATA_CONTRIBUTOR,
        STORAGE_TABLE_DATA_CONTRIBUTOR,
    }
    [(name, grant)] = assignments(file).items()
    assert string_literal(grant["principalType"]) == "ServicePrincipal"
    body = properties(file.resources[name].value.named_children[-1])
    assert body["scope"].text.decode() == "account"
    account = file.resources["account"]
    assert " existing " in account.node.text.decode()
    assert properties(account.value)["name"].text.decode() == "storageAccountName"
    # ... and that account is the task hub's, never the registry's; the registry's keeps its own grants.
    main = main_evaluator(ON_STORAGE)
    assert main.module_params("taskHubRoles")["storageAccountName"] == TASK_HUB_ACCOUNT
    assert main.module_params("ownRoles")["storageAccountName"] == MODULE_OUTPUTS["storage.outputs.name"]


@pytest.mark.parametrize("module", ["ownRoles", "taskHubRoles"])
def test_the_app_starts_only_after_its_storage_roles_exist(module: str) -> None:
    body = properties(main_evaluator(ON_STORAGE).file.modules["app"].value)
    assert module in {item.text.decode() for item in body["dependsOn"].named_children}
