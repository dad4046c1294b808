"""The ARM stand-in, proven with the real azure-mgmt-* clients built exactly as the product builds them.

If these pass, an adapter that works here sends what ARM expects and copes with what ARM answers:
long-running operations, idempotent re-PUTs, global names, errors the SDK maps to exceptions,
retries azure-core performs on its own, and throttling.
"""

from __future__ import annotations

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.web import WebSiteManagementClient

from sandbox import tokens
from sandbox.arm import ArmStandIn, Fault, Throttle

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000a1"
OTHER_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000b2"
REGION = "westeurope"
GROUP = "rg-twin-0001"
# Storage Blob Data Owner: role definition ids must name a built-in role.
BLOB_DATA_OWNER = "/providers/Microsoft.Authorization/roleDefinitions/b7e6dc6d-f1e8-4753-8033-0f276bb0955b"


class FakeCredential:
    """Entra-shaped tokens for the scope's audience (the stand-in checks ``aud``)."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(tokens.mint(scopes[0].removesuffix("/.default")), int(time.time()) + 3600)


ARM_TOKEN = tokens.mint("https://management.azure.com")


@dataclass
class Clients:
    resources: ResourceManagementClient
    storage: StorageManagementClient
    web: WebSiteManagementClient
    authorization: AuthorizationManagementClient


def clients_for(arm: ArmStandIn, subscription: str = SUBSCRIPTION) -> Clients:
    options = {
        "base_url": arm.base_url,
        "credential_scopes": ["https://management.azure.com/.default"],
        "connection_verify": arm.ca_path,
        "polling_interval": 0,
    }
    credential = FakeCredential()
    return Clients(
        ResourceManagementClient(credential, subscription, **options),
        StorageManagementClient(credential, subscription, **options),
        WebSiteManagementClient(credential, subscription, **options),
        AuthorizationManagementClient(credential, subscription, **options),
    )


def storage_body() -> dict:
    return {
        "location": REGION,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "properties": {
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": False,
        },
    }


def plan_body() -> dict:
    # Linux Consumption: sku Y1 / Dynamic, and "reserved" is what makes a plan Linux.
    return {
        "location": REGION,
        "kind": "functionapp",
        "sku": {"name": "Y1", "tier": "Dynamic"},
        "properties": {"reserved": True},
    }


def site_body(plan_id: str, settings: dict[str, str] | None = None) -> dict:
    return {
        "location": REGION,
        "kind": "functionapp,linux",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "serverFarmId": plan_id,
            "httpsOnly": True,
            "siteConfig": {
                "linuxFxVersion": "Python|3.11",
                "appSettings": [{"name": k, "value": v} for k, v in (settings or {}).items()],
            },
        },
    }


def raw(arm: ArmStandIn, method: str, path: str, *, token: bool = True, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {ARM_TOKEN}"} if token else {}
    return requests.request(method, arm.base_url + path, headers=headers, verify=arm.ca_path, timeout=10, **kwargs)


def statuses(arm: ArmStandIn, route: str | None = None) -> list[tuple[str, int]]:
    return [(r.route, r.status) for r in arm.requests if route is None or r.route == route]


@pytest.fixture
def arm():
    with ArmStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def clients(arm: ArmStandIn) -> Clients:
    return clients_for(arm)


@pytest.fixture
def group(clients: Clients) -> str:
    clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
    return GROUP


@pytest.fixture
def account(clients: Clients, group: str):
    return clients.storage.storage_accounts.begin_create(group, "sttwin0001", storage_body()).result()


# --- resource groups ------------------------------------------------------------------------


def test_resource_group_create_is_201_then_200_and_readable(arm: ArmStandIn, clients: Clients) -> None:
    groups = clients.resources.resource_groups
    created = groups.create_or_update(GROUP, {"location": REGION, "tags": {"twin": "0001"}})
    again = groups.create_or_update(GROUP, {"location": REGION, "tags": {"twin": "0001"}})

    assert created.id == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    assert again.properties.provisioning_state == "Succeeded"
    assert groups.get(GROUP.upper()).tags == {"twin": "0001"}  # names are case-insensitive
    assert groups.check_existence(GROUP) is True
    assert groups.check_existence("rg-missing") is False
    assert statuses(arm, "resource_groups.create_or_update") == [("resource_groups.create_or_update", 201)] + [
        ("resource_groups.create_or_update", 200)
    ]
    assert list(arm.resource_groups(SUBSCRIPTION)) == [GROUP]


def test_resource_group_cannot_move_region(clients: Clients, group: str) -> None:
    with pytest.raises(ResourceExistsError) as caught:
        clients.resources.resource_groups.create_or_update(group, {"location": "northeurope"})
    assert caught.value.error.code == "InvalidResourceGroupLocation"


def test_missing_resource_group_is_404(clients: Clients) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        clients.resources.resource_groups.get("rg-missing")
    assert caught.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as caught:
        clients.resources.resource_groups.begin_delete("rg-missing").result()
    assert caught.value.error.code == "ResourceGroupNotFound"


def test_group_delete_is_a_polled_operation_that_removes_everything_inside() -> None:
    with ArmStandIn(delete_polls=1) as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
        account = clients.storage.storage_accounts.begin_create(GROUP, "sttwin0001", storage_body()).result()
        grant = {
            "properties": {
                "roleDefinitionId": BLOB_DATA_OWNER,
                "principalId": str(uuid.uuid4()),
                "principalType": "ServicePrincipal",
            }
        }
        clients.authorization.role_assignments.create(account.id, str(uuid.uuid4()), grant)
        arm.clear_requests()

        clients.resources.resource_groups.begin_delete(GROUP).result()

        assert statuses(arm) == [
            ("resource_groups.delete", 202),
            ("operations.get", 202),
            ("operations.get", 200),
        ]
        assert arm.get_resource(account.id) is None
        assert arm.resources == {}
        with pytest.raises(ResourceNotFoundError) as caught:
            clients.storage.storage_accounts.get_properties(GROUP, "sttwin0001")
        assert caught.value.error.code == "ResourceGroupNotFound"


def test_group_being_deleted_is_visible_until_the_operation_ends() -> None:
    with ArmStandIn(delete_polls=2) as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
        clients.resources.resource_groups.begin_delete(GROUP, polling=False)  # answered 202; nobody polls

        assert clients.resources.resource_groups.get(GROUP).properties.provisioning_state == "Deleting"
        assert clients.resources.resource_groups.check_existence(GROUP) is True
        with pytest.raises(ResourceExistsError) as caught:
            clients.storage.storage_accounts.begin_create(GROUP, "sttwin0001", storage_body())
        assert caught.value.error.code == "ResourceGroupBeingDeleted"

        delete = raw(arm, "DELETE", f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2025-04-01")
        assert delete.status_code == 202  # joins the running deletion
        poll_url = delete.headers["Location"]
        assert "api-version=" in poll_url and delete.headers["Retry-After"] == "0"
        answers = [
            requests.get(poll_url, headers={"Authorization": f"Bearer {ARM_TOKEN}"}, verify=arm.ca_path).status_code
            for _ in range(3)
        ]
        assert answers == [202, 202, 200]
        assert clients.resources.resource_groups.check_existence(GROUP) is False


# --- storage accounts ------------------------------------------------------------------------------


def test_storage_create_is_202_location_then_the_account(arm: ArmStandIn, clients: Clients, group: str) -> None:
    arm.clear_requests()
    account = clients.storage.storage_accounts.begin_create(group, "sttwin0001", storage_body()).result()

    assert statuses(arm) == [("storage_accounts.create", 202), ("operations.get", 200)]
    group_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
    assert account.id == f"{group_id}/providers/Microsoft.Storage/storageAccounts/sttwin0001"
    assert account.properties.provisioning_state == "Succeeded"
    assert account.kind == "StorageV2" and account.sku.name == "Standard_LRS"
    assert account.properties.enable_https_traffic_only is True
    assert account.properties.minimum_tls_version == "TLS1_2"
    assert account.properties.allow_blob_public_access is False
    assert account.properties.primary_endpoints.table == "https://sttwin0001.table.core.windows.net/"
    sent = arm.requests[0].body
    assert sent["sku"] == {"name": "Standard_LRS"} and sent["properties"]["minimumTlsVersion"] == "TLS1_2"


def test_storage_create_again_is_idempotent(arm: ArmStandIn, clients: Clients, account) -> None:
    again = clients.storage.storage_accounts.begin_create(GROUP, "sttwin0001", storage_body()).result()

    assert again.id == account.id
    assert statuses(arm, "storage_accounts.create")[-1] == ("storage_accounts.create", 200)
    assert sum(1 for d in arm.resources.values() if d["type"] == "Microsoft.Storage/storageAccounts") == 1
    assert clients.storage.storage_accounts.get_properties(GROUP, "sttwin0001").creation_time == account.creation_time


@pytest.mark.parametrize("subscription", [SUBSCRIPTION, OTHER_SUBSCRIPTION], ids=["other-group", "other-subscription"])
def test_storage_account_names_are_global(arm: ArmStandIn, account, subscription: str) -> None:
    other = clients_for(arm, subscription)
    other.resources.resource_groups.create_or_update("rg-elsewhere", {"location": REGION})
    with pytest.raises(ResourceExistsError) as caught:
        other.storage.storage_accounts.begin_create("rg-elsewhere", "sttwin0001", storage_body())
    assert caught.value.error.code == "StorageAccountAlreadyTaken"


def test_storage_in_a_missing_group_or_with_a_bad_name(clients: Clients, group: str) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        clients.storage.storage_accounts.begin_create("rg-missing", "sttwin0001", storage_body())
    assert caught.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(HttpResponseError) as caught:
        clients.storage.storage_accounts.begin_create(group, "St-Twin", storage_body())
    assert caught.value.status_code == 400 and caught.value.error.code == "AccountNameInvalid"
    with pytest.raises(ResourceNotFoundError) as caught:
        clients.storage.storage_accounts.get_properties(group, "stmissing")
    assert caught.value.error.code == "ResourceNotFound"


def test_list_keys_are_dict_like_and_stable(clients: Clients, account) -> None:
    first = clients.storage.storage_accounts.list_keys(GROUP, "sttwin0001")
    second = clients.storage.storage_accounts.list_keys(GROUP, "sttwin0001")

    # azure-mgmt-storage 25 models are MutableMappings: `.keys` is the dict method, not the field.
    assert callable(first.keys)
    value = first["keys"][0]["value"]
    assert [k["keyName"] for k in first["keys"]] == ["key1", "key2"]
    assert first["keys"][0]["permissions"] == "FULL"
    assert len(base64.b64decode(value)) == 64
    assert second["keys"][0]["value"] == value


def test_concurrent_creates_do_not_collide(arm: ArmStandIn, clients: Clients, group: str) -> None:
    names = [f"stconcurrent{i:04d}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(
            pool.map(lambda n: clients.storage.storage_accounts.begin_create(group, n, storage_body()).result(), names)
        )
    assert sorted(a.name for a in created) == names
    assert all(a.properties.provisioning_state == "Succeeded" for a in created)


# --- App Service plan and function app --------------------------------------------------------------


def test_linux_consumption_plan_and_function_app(arm: ArmStandIn, clients: Clients, group: str) -> None:
    web = clients.web
    plan = web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
    site = web.web_apps.begin_create_or_update(
        group, "fa-twin-0001", site_body(plan.id, {"FUNCTIONS_WORKER_RUNTIME": "python"})
    ).result()

    assert plan.sku.name == "Y1" and plan.sku.tier == "Dynamic" and plan.properties.reserved is True
    assert plan.properties.provisioning_state == "Succeeded"
    assert site.kind == "functionapp,linux" and site.properties.state == "Running"
    assert site.properties.default_host_name == "fa-twin-0001.azurewebsites.net"
    assert site.properties.server_farm_id == plan.id
    assert site.properties.site_config.linux_fx_version == "Python|3.11"
    assert site.properties.site_config.app_settings is None  # settings are never echoed on the site
    assert uuid.UUID(site.identity.principal_id) and uuid.UUID(site.identity.tenant_id)
    assert web.app_service_plans.get(group, "plan-twin-0001").properties.number_of_sites == 1

    again = web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id)).result()
    assert again.identity.principal_id == site.identity.principal_id
    assert web.web_apps.get(group, "fa-twin-0001").id == site.id


def test_app_settings_are_listed_and_replaced(clients: Clients, group: str) -> None:
    web = clients.web
    plan = web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
    web.web_apps.begin_create_or_update(
        group, "fa-twin-0001", site_body(plan.id, {"FUNCTIONS_WORKER_RUNTIME": "python"})
    ).result()

    assert web.web_apps.list_application_settings(group, "fa-twin-0001").properties == {
        "FUNCTIONS_WORKER_RUNTIME": "python"
    }
    updated = web.web_apps.update_application_settings(group, "fa-twin-0001", {"properties": {"TWIN_ID": "0001"}})
    assert updated.properties == {"TWIN_ID": "0001"}  # a PUT replaces the whole set
    assert web.web_apps.list_application_settings(group, "fa-twin-0001").properties == {"TWIN_ID": "0001"}
    assert web.web_apps.restart(group, "fa-twin-0001") is None


def test_sync_function_triggers_answers_200_as_azure_does(clients: Clients, group: str) -> None:
    web = clients.web
    plan = web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
    web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id)).result()
    # The SDK accepts only 204 (Azure/azure-rest-api-specs#1275); live Azure answers 200.
    with pytest.raises(HttpResponseError) as caught:
        web.web_apps.sync_function_triggers(group, "fa-twin-0001")
    assert caught.value.status_code == 200


def test_sync_function_triggers_can_answer_204() -> None:
    with ArmStandIn(sync_triggers_status=204) as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
        plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-twin-0001", plan_body()).result()
        clients.web.web_apps.begin_create_or_update(GROUP, "fa-twin-0001", site_body(plan.id)).result()
        assert clients.web.web_apps.sync_function_triggers(GROUP, "fa-twin-0001") is None


def test_app_service_errors_use_their_own_shape(arm: ArmStandIn, clients: Clients, group: str) -> None:
    plan_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Web/serverfarms/plan-missing"
    with pytest.raises(ResourceNotFoundError) as caught:
        clients.web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan_id))
    assert caught.value.status_code == 404
    # App Service's {"Code", "Message"} document: the SDK cannot fill error.code from it.
    assert caught.value.response.json()["Code"] == "NotFound"
    assert "Cannot find ServerFarm with name plan-missing" in str(caught.value)

    plan = clients.web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
    clients.web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id)).result()
    other = clients_for(arm, OTHER_SUBSCRIPTION)
    other.resources.resource_groups.create_or_update("rg-elsewhere", {"location": REGION})
    other_plan = other.web.app_service_plans.begin_create_or_update("rg-elsewhere", "plan-x", plan_body()).result()
    with pytest.raises(ResourceExistsError) as caught:
        other.web.web_apps.begin_create_or_update("rg-elsewhere", "fa-twin-0001", site_body(other_plan.id))
    assert caught.value.response.json()["Message"] == "Website with given name fa-twin-0001 already exists."


# --- role assignments ---------------------------------------------------------------------------------


def test_role_assignment_is_idempotent_by_name_and_unique_by_grant(arm: ArmStandIn, clients: Clients, account) -> None:
    assignments = clients.authorization.role_assignments
    principal = str(uuid.uuid4())
    role = f"/subscriptions/{SUBSCRIPTION}{BLOB_DATA_OWNER}"
    parameters = {
        "properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}
    }
    name = str(uuid.uuid4())

    first = assignments.create(account.id, name, parameters)
    again = assignments.create(account.id, name, parameters)

    assert first.id == again.id == f"{account.id}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert first.scope == account.id and first.principal_id == principal
    assert assignments.get(account.id, name).role_definition_id == role
    with pytest.raises(ResourceExistsError) as caught:
        assignments.create(account.id, str(uuid.uuid4()), parameters)
    assert caught.value.error.code == "RoleAssignmentExists"
    assert sum(1 for d in arm.resources.values() if d["type"] == "Microsoft.Authorization/roleAssignments") == 1


def test_role_assignment_needs_an_existing_scope_and_a_guid_name(clients: Clients, group: str) -> None:
    assignments = clients.authorization.role_assignments
    scope = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/stmissing"
    )
    parameters = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}{BLOB_DATA_OWNER}",
            "principalId": str(uuid.uuid4()),
            "principalType": "ServicePrincipal",
        }
    }
    with pytest.raises(ResourceNotFoundError):
        assignments.create(scope, str(uuid.uuid4()), parameters)
    with pytest.raises(HttpResponseError) as caught:
        assignments.create(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}", "not-a-guid", parameters)
    assert caught.value.error.code == "InvalidRoleAssignmentId"


# --- faults --------------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_by_azure_core(arm: ArmStandIn, clients: Clients, group: str) -> None:
    arm.inject(Fault(route="storage_accounts.create", kind="429", times=2, retry_after=1))
    arm.clear_requests()
    started = time.monotonic()

    account = clients.storage.storage_accounts.begin_create(group, "sttwin0001", storage_body()).result()

    assert account.properties.provisioning_state == "Succeeded"
    assert statuses(arm, "storage_accounts.create") == [("storage_accounts.create", 429)] * 2 + [
        ("storage_accounts.create", 202)
    ]
    assert time.monotonic() - started >= 2  # azure-core honoured Retry-After: 1 twice
    assert arm.throttled == {"storage_accounts.create": 2}


def test_500_is_retried_and_409_is_not(arm: ArmStandIn, clients: Clients, group: str) -> None:
    arm.inject(Fault(route="resource_groups.get", kind="500"))
    assert clients.resources.resource_groups.get(group).name == group
    assert statuses(arm, "resource_groups.get") == [("resource_groups.get", 500), ("resource_groups.get", 200)]

    arm.inject(Fault(route="resource_groups.create_or_update", kind="409"))
    with pytest.raises(ResourceExistsError) as caught:
        clients.resources.resource_groups.create_or_update(group, {"location": REGION})
    assert caught.value.error.code == "AnotherOperationInProgress"


def test_error_fault_is_permanent_and_scoped_to_its_subscription(arm: ArmStandIn, clients: Clients, group: str) -> None:
    arm.inject(
        Fault(
            route="sites.create_or_update",
            kind="error",
            times=None,
            status=403,
            code="AuthorizationFailed",
            message="The client does not have authorization.",
            subscription=SUBSCRIPTION,
        )
    )
    plan = clients.web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
    for _ in range(2):
        with pytest.raises(HttpResponseError) as caught:
            clients.web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id))
        assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"

    other = clients_for(arm, OTHER_SUBSCRIPTION)
    other.resources.resource_groups.create_or_update(group, {"location": REGION})
    other_plan = other.web.app_service_plans.begin_create_or_update(group, "plan-x", plan_body()).result()
    assert (
        other.web.web_apps.begin_create_or_update(group, "fa-other", site_body(other_plan.id)).result().name
        == "fa-other"
    )
    arm.clear_faults()
    assert clients.web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id)).result()


@pytest.mark.parametrize("kind", ["storage", "site", "group-delete"])
def test_lro_failed_surfaces_the_arm_error(arm: ArmStandIn, clients: Clients, group: str, kind: str) -> None:
    def failing(route: str) -> Fault:
        return Fault(route=route, kind="lro_failed", code="StorageProvisioningFailed", message="no capacity")

    if kind == "storage":
        arm.inject(failing("storage_accounts.create"))
        start = lambda: clients.storage.storage_accounts.begin_create(group, "sttwin0001", storage_body())  # noqa: E731
    elif kind == "site":
        plan = clients.web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
        arm.inject(failing("sites.create_or_update"))
        start = lambda: clients.web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id))  # noqa: E731
    else:
        arm.inject(failing("resource_groups.delete"))
        start = lambda: clients.resources.resource_groups.begin_delete(group)  # noqa: E731

    poller = start()
    with pytest.raises(HttpResponseError) as caught:
        poller.result()

    assert caught.value.error.code == "StorageProvisioningFailed"
    assert caught.value.error.message == "no capacity"
    assert statuses(arm, "operations.get")[-1] == ("operations.get", 400)
    if kind == "group-delete":
        assert clients.resources.resource_groups.get(group).properties.provisioning_state == "Succeeded"
    else:
        assert [d["type"] for d in arm.resources.values() if "sttwin" in d["id"] or "/sites/" in d["id"]] == []


def test_hang_delays_the_answer(arm: ArmStandIn, clients: Clients, group: str) -> None:
    arm.inject(Fault(route="resource_groups.get", kind="hang", seconds=0.3))
    started = time.monotonic()
    assert clients.resources.resource_groups.get(group).name == group
    assert time.monotonic() - started >= 0.3


def test_faults_are_checked_when_injected() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        Fault(route="storage_account.create", kind="500")
    with pytest.raises(ValueError, match="never answers with an LRO"):
        Fault(route="storage_accounts.list_keys", kind="lro_failed")
    with pytest.raises(ValueError, match="needs status"):
        Fault(route="sites.get", kind="error")


# --- the wire ------------------------------------------------------------------------------------------


def test_wire_rules_api_version_token_and_unknown_routes(arm: ArmStandIn, clients: Clients, group: str) -> None:
    path = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{group}"
    missing_version = raw(arm, "GET", path)
    assert missing_version.status_code == 400
    assert missing_version.json()["error"]["code"] == "MissingApiVersionParameter"

    no_token = raw(arm, "GET", path + "?api-version=2025-04-01", token=False)
    assert no_token.status_code == 401 and "WWW-Authenticate" in no_token.headers

    unknown = raw(
        arm, "GET", f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines?api-version=1"
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NotFound"
    assert [r.route for r in arm.requests[-3:]] == ["resource_groups.get", "resource_groups.get", "unknown"]
    assert ARM_TOKEN not in repr(arm.requests)  # the Authorization header is never recorded


def test_the_sdk_sends_the_documented_api_versions(arm: ArmStandIn, clients: Clients, account) -> None:
    versions = {r.route: r.query["api-version"] for r in arm.requests}
    assert versions["resource_groups.create_or_update"] == "2025-04-01"
    assert versions["storage_accounts.create"] == "2026-09-01"
    assert versions["operations.get"] == "2026-09-01"  # the Location carries the caller's version


# --- latency and throttling ------------------------------------------------------------------------------


def test_latency_keeps_an_lro_in_progress_and_sleeps_sync_calls() -> None:
    with ArmStandIn(latency={"storage_accounts": 0.2, "resource_groups.get": 0.15}, lro_retry_after=0) as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
        started = time.monotonic()
        clients.storage.storage_accounts.begin_create(GROUP, "sttwin0001", storage_body()).result()
        assert time.monotonic() - started >= 0.2
        assert ("operations.get", 202) in statuses(arm, "operations.get")

        started = time.monotonic()
        clients.resources.resource_groups.get(GROUP)
        assert time.monotonic() - started >= 0.15

        # Scale 0 removes the sleep: shown by an outcome, not a stopwatch. With an hour of latency
        # configured, the call could only come back inside its 30 s read timeout if nothing slept.
        arm.latency_scale = 0.0
        arm.latency["resource_groups.get"] = 3600
        assert clients.resources.resource_groups.get(GROUP, read_timeout=30).name == GROUP


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_drain_refill_and_say_when_to_retry() -> None:
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    admit = lambda method: throttle.admit(subscription=SUBSCRIPTION, method=method, route="r")  # noqa: E731

    results = [admit("PUT") for _ in range(201)]
    assert all(r.allowed for r in results[:200]) and not results[200].allowed
    assert results[0].headers == {"x-ms-ratelimit-remaining-subscription-writes": "199"}
    assert results[200].retry_after == 1  # 10/s refill: one token is back within a second
    assert admit("POST").allowed is False  # actions count as writes
    assert admit("GET").allowed and admit("DELETE").allowed  # separate buckets
    assert throttle.admit(subscription=OTHER_SUBSCRIPTION, method="PUT", route="r").allowed  # per subscription

    clock.now += 0.5
    assert [admit("PUT").allowed for _ in range(6)] == [True] * 5 + [False]
    assert throttle.rejections() == {"r": 3}
    assert throttle.remaining(SUBSCRIPTION, "writes") == 0
    assert throttle.remaining(SUBSCRIPTION, "reads") == 250  # refilled during the half second


def test_storage_buckets_are_per_region_and_hourly() -> None:
    clock = FakeClock()
    throttle = Throttle(writes=(10_000, 1000.0), clock=clock)

    def write(region: str = REGION):
        return throttle.admit(
            subscription=SUBSCRIPTION, method="PUT", route="storage_accounts.create", storage_region=region
        )

    assert [write().allowed for _ in range(11)] == [True] * 10 + [False]
    assert write("northeurope").allowed

    # Ten a second (the most the per-second bucket allows) until the hourly bucket runs dry.
    accepted = 10
    refused = None
    while refused is None and clock.now < 2000:
        clock.now += 1.0
        for _ in range(10):
            answer = write()
            if not answer.allowed:
                refused = answer
                break
            accepted += 1
    # 1,200 in the hour plus the trickle refilled meanwhile (1,200/h is one token every 3 s).
    assert refused is not None and 1200 < accepted < 1250
    assert 1 <= refused.retry_after <= 3
    clock.now += refused.retry_after
    assert write().allowed


def test_throttled_writes_get_429_and_are_retried() -> None:
    with ArmStandIn(throttle=Throttle(writes=(1, 1.0))) as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
        started = time.monotonic()
        clients.resources.resource_groups.create_or_update(GROUP, {"location": REGION})

        assert time.monotonic() - started >= 0.9
        assert statuses(arm) == [
            ("resource_groups.create_or_update", 201),
            ("resource_groups.create_or_update", 429),
            ("resource_groups.create_or_update", 200),
        ]
        assert arm.throttled == {"resource_groups.create_or_update": 1}
        answer = raw(arm, "GET", f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2025-04-01")
        assert answer.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
