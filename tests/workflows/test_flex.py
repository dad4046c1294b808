"""Flex Consumption twins through the real SDKs, the ARM stand-in, real Azurite and real Durable replay.

A Flex twin holds no storage key (its account refuses them): its host reaches its own storage
account with the site's system identity (three data roles), and its code is the package for its
deploy_ref, published through One Deploy (the scm stand-in), which the platform writes into a private
container of that account (Azurite's blob service, here). Publishing itself: test_one_deploy.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator

import azure.functions as func
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient

from controlplane.arm.clients import arm_clients
from controlplane.arm.flex_consumption import FLEX_REFUSED_SETTINGS, FlexConsumption
from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.runtime_targets import CATALOG
from controlplane.registry import default_registry
from sandbox.arm import ArmStandIn, Fault
from sandbox.azurite import ACCOUNT_KEY
from sandbox.rig import SECRET_ENV_KEYS, SUBSCRIPTION_ID, ControlPlaneRig
from tests.workflows.booking import NothingUnbooked, booked_writes, sent_writes
from tests.workflows.twin_jobs import assert_never_recorded, provision, teardown

KODY = "twin-kody-e89834"
MOLLY = "twin-molly-4181ee"
ACCOUNT = "sttwinkodye89834"
GROUP_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-twin-kody"
ACCOUNT_ID = f"{GROUP_ID}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
CONTAINER = f"app-package-{KODY}"
ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",  # Storage Blob Data Owner
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # Storage Queue Data Contributor
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",  # Storage Table Data Contributor
}
FLEX = "azure-flex-py311"


@pytest.fixture
def azurite_blobs(storage_connection: str) -> Iterator[BlobServiceClient]:
    """Azurite's blob service, without the deployment containers of earlier tests (the session shares one)."""
    service = BlobServiceClient.from_connection_string(storage_connection)

    def sweep() -> None:
        for container in service.list_containers(name_starts_with="app-package-"):
            service.delete_container(container.name)

    sweep()
    yield service
    sweep()


@pytest.fixture
def flex_rig(make_rig: Callable[..., ControlPlaneRig], azurite_blobs: BlobServiceClient) -> ControlPlaneRig:
    return make_rig()


def writes(rig: ControlPlaneRig, route: str) -> list:
    return [r for r in rig.arm.requests if r.route == route and r.method in ("PUT", "POST") and r.status < 300]


def site_principal(rig: ControlPlaneRig, app_name: str = KODY) -> str:
    site = rig.arm.get_resource(
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-twin-kody/providers/Microsoft.Web/sites/{app_name}"
    )
    assert site is not None
    return site["identity"]["principalId"]


def role_assignments(rig: ControlPlaneRig) -> dict[str, dict]:
    return {d["id"]: d for d in rig.arm.resources.values() if d["type"] == "Microsoft.Authorization/roleAssignments"}


def test_a_flex_twin_gets_identity_based_storage_and_its_code_in_its_own_container(
    flex_rig: ControlPlaneRig, azurite_blobs: BlobServiceClient
) -> None:
    rig = flex_rig
    with NothingUnbooked():
        result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    row = default_registry().get(KODY)
    assert row.status == Status.ACTIVE and row.runtime_target == FLEX

    routes = [r.route for r in rig.arm.requests if r.method in ("PUT", "POST")]
    assert routes == [
        "storage_names.check", "web_names.check",
        "resource_groups.create_or_update", "locks.create_or_update", "storage_accounts.create",
        "server_farms.create_or_update", "blob_containers.create", "sites.create_or_update",
        "role_assignments.create", "role_assignments.create", "role_assignments.create",
    ]  # fmt: skip  # the code goes through One Deploy, which syncs triggers itself: no restart, no sync here
    assert "storage_accounts.list_keys" not in {r.route for r in rig.arm.requests}
    assert booked_writes(result) == len(sent_writes(rig))  # the budget booked exactly what went to ARM
    [account] = writes(rig, "storage_accounts.create")
    assert account.body["properties"]["allowSharedKeyAccess"] is False

    [container] = writes(rig, "blob_containers.create")
    assert container.path.lower() == f"{ACCOUNT_ID}/blobServices/default/containers/{CONTAINER}".lower()
    assert container.body == {"properties": {"publicAccess": "None"}}

    [plan] = writes(rig, "server_farms.create_or_update")
    assert plan.path.lower().endswith("/providers/microsoft.web/serverfarms/plan-twin-kody-e89834")
    assert plan.body == {
        "location": "eastus2", "kind": "functionapp", "sku": {"name": "FC1", "tier": "FlexConsumption"},
        "tags": {"twin": "kody", "stack": "TwinStack", "owner": "wildhaven-ai-homes", "twinstack-owner": "github:alice",
                 "twinstack-cloud-id": KODY},
        "properties": {"reserved": True},
    }  # fmt: skip

    [site] = writes(rig, "sites.create_or_update")
    body = site.body
    assert (body["kind"], body["location"], body["identity"]) == (
        "functionapp,linux",
        "eastus2",
        {"type": "SystemAssigned"},
    )
    properties = body["properties"]
    assert properties["serverFarmId"].lower().endswith("/providers/microsoft.web/serverfarms/plan-twin-kody-e89834")
    assert properties["httpsOnly"] is True
    assert properties["functionAppConfig"] == {
        "deployment": {
            "storage": {
                "type": "blobContainer",
                "value": f"https://{ACCOUNT}.blob.core.windows.net/{CONTAINER}",
                "authentication": {"type": "SystemAssignedIdentity"},
            }
        },
        "runtime": {"name": "python", "version": "3.11"},
        "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100},
    }
    config = properties["siteConfig"]
    assert "linuxFxVersion" not in config and config["minTlsVersion"] == "1.2"
    settings = {s["name"]: s["value"] for s in config["appSettings"]}
    assert settings == {
        **SECRET_ENV_KEYS,
        "AzureWebJobsStorage__blobServiceUri": f"https://{ACCOUNT}.blob.core.windows.net",
        "AzureWebJobsStorage__queueServiceUri": f"https://{ACCOUNT}.queue.core.windows.net",
        "AzureWebJobsStorage__tableServiceUri": f"https://{ACCOUNT}.table.core.windows.net",
        "AzureWebJobsDisableHomepage": "true",
    }

    principal = site_principal(rig)
    grants = writes(rig, "role_assignments.create")
    granted = set()
    for grant in grants:
        scope, _, name = grant.path.rpartition("/providers/Microsoft.Authorization/roleAssignments/")
        assert scope.lower() == ACCOUNT_ID.lower()
        role = grant.body["properties"]["roleDefinitionId"]
        assert role.startswith(f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/")
        role_id = role.rsplit("/", 1)[1]
        assert grant.body["properties"]["principalId"] == principal
        assert grant.body["properties"]["principalType"] == "ServicePrincipal"
        assert name == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ACCOUNT_ID.lower()}|{principal}|{role_id}"))
        granted.add(role_id)
    assert granted == ROLES
    assert len(role_assignments(rig)) == 3

    # One Deploy put the package for deploy_ref abc123 in the twin's container, byte for byte.
    expected = rig.packages.package("abc123")
    blob = azurite_blobs.get_blob_client(CONTAINER, "released-package.zip")
    assert hashlib.sha256(blob.download_blob().readall()).hexdigest() == hashlib.sha256(expected).hexdigest()
    [deployment] = rig.scm.deployments.values()  # type: ignore[union-attr]
    assert (deployment.status, deployment.remote_build, deployment.package) == (4, True, expected)

    scheduled = [e["Name"] for e in result.history if e.get("EventType") == 4]
    # One Deploy: one publish_code starts the deployment, each later one asks its status once (durable timers between)
    first = scheduled.index(Activity.PUBLISH_CODE)
    follows = next(i for i in range(first, len(scheduled)) if scheduled[i] != Activity.PUBLISH_CODE)
    assert follows - first >= 2
    steps = scheduled[: first + 1] + scheduled[follows:]
    # Each ARM step's requests are booked in the fleet-wide budget just before it (issue 18); One Deploy
    # goes to the scm site, not ARM, so publishing books nothing.
    assert steps == [
        Activity.RESERVE_ARM_WRITES,
        Activity.CHECK_NAMES,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_RESOURCE_GROUP,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_STORAGE_ACCOUNT,
        Activity.POLL_ARM_OPERATION,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_FUNCTION_PLAN,
        Activity.RESERVE_ARM_WRITES,
        Activity.BEGIN_FUNCTION_SITE,
        Activity.RESERVE_ARM_WRITES,
        Activity.FINISH_FUNCTION_APP,  # the made site's identity gets its storage roles
        Activity.PUBLISH_CODE,
        Activity.PROBE_BRAINSTEM,
        Activity.MARK_ACTIVE,
    ]
    results = [json.loads(e["Result"]) for e in result.history if e.get("EventType") == 5]
    begun = next(r for r in results if "package_sha256" in r)
    assert begun == {
        "done": False, "deploy_ref": "abc123", "deployment_id": deployment.id,
        "package_sha256": hashlib.sha256(expected).hexdigest(),
        "following": {"deployment_id": deployment.id, "answered": False, "not_found": 0, "last_status": None},
    }  # fmt: skip
    assert {"done": True, "deploy_ref": "abc123", "deployment_id": deployment.id} in results
    assert next(r for r in results if "settings" in r)["settings"] == sorted(settings)


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_each_newer_python_target_asks_for_its_python(flex_rig: ControlPlaneRig, version: str) -> None:
    result = provision(flex_rig, "kody", runtime_target=f"azure-flex-py{version.replace('.', '')}")
    assert result.status == "Completed", result.error
    [site] = writes(flex_rig, "sites.create_or_update")
    assert site.body["properties"]["functionAppConfig"]["runtime"] == {"name": "python", "version": version}
    assert writes(flex_rig, "server_farms.create_or_update")[0].body["sku"] == {
        "name": "FC1",
        "tier": "FlexConsumption",
    }


def test_scale_settings_reach_function_app_config(
    make_rig: Callable[..., ControlPlaneRig], azurite_blobs: BlobServiceClient
) -> None:
    rig = make_rig(settings={"CP_FLEX_INSTANCE_MEMORY_MB": "4096", "CP_FLEX_MAXIMUM_INSTANCE_COUNT": "40"})
    assert provision(rig, "kody", runtime_target=FLEX).status == "Completed"
    [site] = writes(rig, "sites.create_or_update")
    assert site.body["properties"]["functionAppConfig"]["scaleAndConcurrency"] == {
        "instanceMemoryMB": 4096,
        "maximumInstanceCount": 40,
    }


def test_rerunning_a_flex_provision_converges_without_new_grants(
    flex_rig: ControlPlaneRig, azurite_blobs: BlobServiceClient
) -> None:
    rig = flex_rig
    assert provision(rig, "kody", runtime_target=FLEX).status == "Completed"
    before = dict(rig.arm.resources)
    first_grants = sorted(r.path for r in writes(rig, "role_assignments.create"))
    rig.arm.clear_requests()

    registry = default_registry()
    again = "e" * 32
    registry.update(KODY, lambda row: row.with_changes(status=Status.PROVISIONING, job_id=again))
    from controlplane.settings import get_settings
    from controlplane.workflows.job_inputs import job_for

    job = job_for(registry.get(KODY), get_settings()).to_input()
    result = rig.driver.run(Orchestration.PROVISION, job, instance_id=again)  # type: ignore[union-attr]
    assert result.status == "Completed", result.error
    assert {r.method for r in rig.arm.requests} <= {"PUT", "GET", "POST", "HEAD"}
    assert all(r.status < 300 for r in rig.arm.requests)
    assert sorted(rig.arm.resources) == sorted(before)
    assert sorted(r.path for r in writes(rig, "role_assignments.create")) == first_grants  # the same names again
    assert len(role_assignments(rig)) == 3
    assert [r.status for r in writes(rig, "blob_containers.create")] == [200]  # already there
    assert [d.status for d in rig.scm.deployments.values()] == [4, 4]  # One Deploy again: the same package, active
    assert site_principal(rig) == writes(rig, "role_assignments.create")[0].body["properties"]["principalId"]


def test_a_grant_that_exists_under_another_name_is_success(flex_rig: ControlPlaneRig) -> None:
    rig = flex_rig
    # First attempt: the grants are refused, so the twin ends errored with its site (and identity) in place.
    rig.arm.inject(
        Fault(route="role_assignments.create", kind="error", status=403, code="AuthorizationFailed", times=1)
    )
    assert provision(rig, "kody", runtime_target=FLEX).status == "Failed"
    # Someone grants Storage Blob Data Owner by hand, under a name of their own.
    owner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
    by_hand = {"properties": {
        "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{owner}",
        "principalId": site_principal(rig), "principalType": "ServicePrincipal",
    }}  # fmt: skip
    arm_clients().authorization.role_assignments.create(ACCOUNT_ID, str(uuid.uuid4()), by_hand)
    rig.arm.clear_requests()

    registry = default_registry()
    registry.update(KODY, lambda row: row.with_changes(status=Status.PROVISIONING, job_id="d" * 32, error=None))
    from controlplane.settings import get_settings
    from controlplane.workflows.job_inputs import job_for

    job = job_for(registry.get(KODY), get_settings()).to_input()
    result = rig.driver.run(Orchestration.PROVISION, job, instance_id="d" * 32)  # type: ignore[union-attr]
    assert result.status == "Completed", result.error
    # ARM's own answer to the same grant under another name: 409 RoleAssignmentExists, taken as done.
    assert [r.status for r in rig.arm.requests if r.route == "role_assignments.create"] == [409, 201, 201]
    assert len(role_assignments(rig)) == 3


def test_deprecated_settings_never_reach_a_flex_app_even_from_the_operators_env_keys(
    make_rig: Callable[..., ControlPlaneRig], azurite_blobs: BlobServiceClient
) -> None:
    deprecated = {
        "functions_worker_runtime": "node",  # any spelling: App Service compares names case-insensitively
        "FUNCTIONS_WORKER_RUNTIME_VERSION": "3.11",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=bm90",
        "WEBSITE_CONTENTSHARE": "twin-share",
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",
        "WEBSITE_RUN_FROM_PACKAGE": "1",
        "FUNCTIONS_EXTENSION_VERSION": "~3",
        "AzureWebJobsStorage__accountName": "someoneelse",
    }
    env_keys = {**SECRET_ENV_KEYS, **deprecated}
    rig = make_rig(settings={"CP_ENV_KEYS": json.dumps(env_keys)})
    assert provision(rig, "kody", runtime_target=FLEX).status == "Completed"
    assert provision(rig, "molly", runtime_target="azure-consumption-py311").status == "Completed"

    flex, consumption = writes(rig, "sites.create_or_update")
    flex_settings = {s["name"]: s["value"] for s in flex.body["properties"]["siteConfig"]["appSettings"]}
    assert not {name.upper() for name in flex_settings} & FLEX_REFUSED_SETTINGS
    assert {name for name in flex_settings if name.lower().startswith("azurewebjobsstorage")} == {
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
    }
    assert "AccountKey" not in json.dumps(flex.body)
    # The Consumption twin beside it still gets what Linux Consumption needs.
    consumption_settings = {s["name"]: s["value"] for s in consumption.body["properties"]["siteConfig"]["appSettings"]}
    assert consumption_settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    # ...and its own package, once published, replaces the operator's WEBSITE_RUN_FROM_PACKAGE.
    [published] = writes(rig, "sites.update_application_settings")
    assert "/function-releases/twin-molly-4181ee/abc123-" in published.body["properties"]["WEBSITE_RUN_FROM_PACKAGE"]


def test_the_flex_site_body_strips_deprecated_settings_whoever_passes_them() -> None:
    body = FlexConsumption("3.11").site_body(
        twin_names("kody"), region="eastus2", tags={}, plan_id="/plan", deployment_url="https://a/c",
        app_settings={"WEBSITE_RUN_FROM_PACKAGE": "1", "Website_ContentShare": "s", "KEEP": "me"},
        instance_memory_mb=2048, maximum_instance_count=100,
    )  # fmt: skip
    assert body["properties"]["siteConfig"]["appSettings"] == [{"name": "KEEP", "value": "me"}]


def test_the_stand_in_refuses_what_real_flex_refuses(flex_rig: ControlPlaneRig) -> None:
    """Why the guard matters: ARM answers 400 to a Flex site with a deprecated setting."""
    assert provision(flex_rig, "kody", runtime_target=FLEX).status == "Completed"
    [site] = writes(flex_rig, "sites.create_or_update")
    body = json.loads(json.dumps(site.body))
    body["properties"]["siteConfig"]["appSettings"].append({"name": "FUNCTIONS_WORKER_RUNTIME", "value": "python"})
    with pytest.raises(HttpResponseError) as caught:
        arm_clients().web.web_apps.begin_create_or_update("rg-twin-kody", KODY, body).result()
    assert caught.value.status_code == 400
    assert "FUNCTIONS_WORKER_RUNTIME" in caught.value.response.json()["Message"]


def test_no_storage_key_reaches_arm_history_rows_or_logs_for_a_flex_twin(
    flex_rig: ControlPlaneRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig = flex_rig
    rig.arm.inject(Fault(route="sites.create_or_update", kind="500", times=1))
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error

    keys = next(doc for rid, doc in rig.arm.resources.items() if rid.lower() == f"{ACCOUNT_ID}/keys".lower())
    storage_keys = [k["value"] for k in keys["keys"]]
    assert storage_keys, "the stand-in holds the account's keys; the control plane must never ask for them"
    assert not [r for r in rig.arm.requests if r.route == "storage_accounts.list_keys"]
    secrets = [*storage_keys, *SECRET_ENV_KEYS.values(), ACCOUNT_KEY, "AccountKey"]

    bodies = json.dumps([r.body for r in rig.arm.requests])
    for secret in [*storage_keys, ACCOUNT_KEY, "AccountKey"]:
        assert secret not in bodies
    assert_never_recorded(secrets, result, caplog.records)


def test_a_missing_package_ends_errored_without_retries(flex_rig: ControlPlaneRig) -> None:
    flex_rig.packages.missing.add("abc123")
    result = provision(flex_rig, "kody", runtime_target=FLEX)
    assert result.status == "Failed"
    error = default_registry().get(KODY).error
    assert error is not None
    assert (error["step"], error["code"], error["status"], error["transient"]) == (
        "publish",
        "PackageNotFound",
        404,
        False,
    )
    assert flex_rig.packages.hits["abc123"] == 1  # type: ignore[union-attr]


def test_a_package_server_hiccup_is_retried(flex_rig: ControlPlaneRig, azurite_blobs: BlobServiceClient) -> None:
    flex_rig.packages.failures["abc123"] = 1
    result = provision(flex_rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    starts = [e for e in flex_rig.driver.executions(Activity.PUBLISH_CODE) if "following" not in e.input]  # type: ignore[union-attr]
    assert len(starts) == 2  # the failed start, then the one that started the deployment
    assert azurite_blobs.get_blob_client(CONTAINER, "released-package.zip").exists()


@pytest.mark.parametrize("status", [200, 204], ids=["live-azure-200", "sdk-204"])
def test_trigger_sync_succeeds_whether_azure_answers_200_or_204(
    make_rig: Callable[..., ControlPlaneRig], azurite_blobs: BlobServiceClient, status: int
) -> None:
    rig = make_rig(arm=ArmStandIn(sync_triggers_status=status))
    result = provision(rig, "kody")  # a Linux Consumption twin: config-zip syncs triggers
    assert result.status == "Completed", result.error
    assert [r.status for r in rig.arm.requests if r.route == "sites.sync_function_triggers"] == [status]


def _health(rig: ControlPlaneRig) -> dict:
    request = func.HttpRequest(
        "GET", "http://127.0.0.1:7071/api/cp/health", headers={"x-api-key": rig.operator_key}, body=b""
    )
    response = rig.call("health", request)
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


def _listed(rig: ControlPlaneRig, runtime_target: str) -> list[str]:
    request = func.HttpRequest(
        "GET", "http://127.0.0.1:7071/api/cp/brainstems", headers={"x-api-key": rig.operator_key}, body=b"",
        params={"runtime_target": runtime_target},
    )  # fmt: skip
    response = rig.call("list_brainstems", request)
    assert response.status_code == 200, response.get_body()
    return [item["cloud_id"] for item in json.loads(response.get_body())["items"]]


def test_consumption_and_flex_twins_side_by_side_then_torn_down(
    flex_rig: ControlPlaneRig, azurite_blobs: BlobServiceClient
) -> None:
    rig = flex_rig
    assert provision(rig, "kody", runtime_target=FLEX).status == "Completed"
    assert provision(rig, "molly", owner="github:bob", runtime_target="azure-consumption-py311").status == "Completed"

    health = _health(rig)
    assert health["by_runtime_target"] == {FLEX: 1, "azure-consumption-py311": 1}
    assert (health["active"], health["total"]) == (2, 2)
    assert _listed(rig, FLEX) == [KODY]
    assert _listed(rig, "azure-consumption-py311") == [MOLLY]
    assert _listed(rig, "azure-flex-py312") == []
    farms = {
        d["name"]: d["sku"]["tier"] for d in rig.arm.resources.values() if d["type"] == "Microsoft.Web/serverfarms"
    }
    assert farms == {"plan-twin-kody-e89834": "FlexConsumption", "plan-twin-molly-4181ee": "Dynamic"}

    for cloud_id in (KODY, MOLLY):
        result = teardown(rig, cloud_id)
        assert result.status == "Completed", result.error
        assert default_registry().get(cloud_id).status == Status.DELETED
    assert rig.arm.resource_groups(SUBSCRIPTION_ID) == {}
    assert rig.arm.resources == {}  # role assignments and the container went with the groups
    assert _health(rig)["by_runtime_target"] == {}
    with pytest.raises(ResourceNotFoundError):
        arm_clients().storage.blob_containers.get("rg-twin-kody", ACCOUNT, CONTAINER)


def test_openapi_offers_every_runtime_target() -> None:
    from pathlib import Path

    import yaml

    spec = yaml.safe_load((Path(__file__).parents[2] / "openapi.yaml").read_text())
    schemas = spec["components"]["schemas"]
    assert schemas["RuntimeTarget"]["enum"] == sorted(CATALOG)  # one enum, shared by create and the list filter
    assert schemas["CreateRequest"]["properties"]["runtime_target"]["allOf"] == [
        {"$ref": "#/components/schemas/RuntimeTarget"}
    ]
