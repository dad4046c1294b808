"""The ARM stand-in's blob containers and Flex Consumption rules, proven with the real SDK clients."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sandbox.arm import ArmStandIn
from tests.sandbox.test_arm_standin import Clients, clients_for, storage_body

REGION = "eastus2"  # Flex Consumption is offered here (sandbox.arm.names.FLEX_REGIONS)

GROUP = "rg-twin-flex"
ACCOUNT = "sttwinflex0001"


@pytest.fixture
def arm():
    with ArmStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def clients(arm: ArmStandIn) -> Clients:
    made = clients_for(arm)
    made.resources.resource_groups.create_or_update(GROUP, {"location": REGION})
    made.storage.storage_accounts.begin_create(GROUP, ACCOUNT, storage_body()).result()
    return made


def flex_plan(reserved: bool = True) -> dict:
    return {
        "location": REGION,
        "kind": "functionapp",
        "sku": {"name": "FC1", "tier": "FlexConsumption"},
        "properties": {"reserved": reserved},
    }


def flex_site(
    plan_id: str, *, settings: dict[str, str] | None = None, config: dict | None = None, **site_config: object
) -> dict:
    function_app_config = {
        "deployment": {
            "storage": {
                "type": "blobContainer",
                "value": f"https://{ACCOUNT}.blob.core.windows.net/app-package",
                "authentication": {"type": "SystemAssignedIdentity"},
            }
        },
        "runtime": {"name": "python", "version": "3.11"},
        "scaleAndConcurrency": {"instanceMemoryMB": 2048, "maximumInstanceCount": 100},
    }
    return {
        "location": REGION,
        "kind": "functionapp,linux",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "serverFarmId": plan_id,
            "siteConfig": {
                "appSettings": [{"name": k, "value": v} for k, v in (settings or {}).items()],
                **site_config,
            },
            "functionAppConfig": function_app_config if config is None else config,
        },
    }


def test_a_blob_container_put_is_create_or_update(arm: ArmStandIn, clients: Clients) -> None:
    containers = clients.storage.blob_containers
    first = containers.create(GROUP, ACCOUNT, "app-package", {"properties": {"publicAccess": "None"}})
    again = containers.create(GROUP, ACCOUNT, "app-package", {"properties": {"publicAccess": "None"}})
    assert first.id == again.id and first.id.endswith(
        f"/storageAccounts/{ACCOUNT}/blobServices/default/containers/app-package"
    )
    assert [r.status for r in arm.requests if r.route == "blob_containers.create"] == [201, 200]
    assert containers.get(GROUP, ACCOUNT, "app-package").public_access == "None"


def test_a_container_needs_its_account_a_valid_name_and_no_public_access(clients: Clients) -> None:
    containers = clients.storage.blob_containers
    with pytest.raises(ResourceNotFoundError):
        containers.create(GROUP, "stnosuchaccount", "app-package", {})
    with pytest.raises(HttpResponseError) as caught:
        containers.create(GROUP, ACCOUNT, "Bad--Name", {})
    assert caught.value.status_code == 400
    with pytest.raises(ResourceExistsError) as conflict:
        containers.create(GROUP, ACCOUNT, "public", {"properties": {"publicAccess": "Blob"}})
    assert conflict.value.error.code == "PublicAccessNotPermitted"
    with pytest.raises(ResourceNotFoundError):
        containers.get(GROUP, ACCOUNT, "never-made")


def test_a_flex_site_gets_an_identity_and_keeps_its_function_app_config(clients: Clients) -> None:
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
    site = clients.web.web_apps.begin_create_or_update(GROUP, "twin-flex-000001", flex_site(plan.id)).result()
    assert site.identity.principal_id
    assert site.function_app_config.runtime.version == "3.11"
    again = clients.web.web_apps.begin_create_or_update(GROUP, "twin-flex-000001", flex_site(plan.id)).result()
    assert again.identity.principal_id == site.identity.principal_id


def flex_refusal(clients: Clients, body: dict, app_name: str = "twin-flex-000001") -> str:
    with pytest.raises(HttpResponseError) as caught:
        clients.web.web_apps.begin_create_or_update(GROUP, app_name, body).result()
    assert caught.value.status_code == 400
    return caught.value.response.json()["Message"]


OLD_PYTHON = {
    "deployment": {
        "storage": {
            "type": "blobContainer",
            "value": "https://a/c",
            "authentication": {"type": "SystemAssignedIdentity"},
        }
    },
    "runtime": {"name": "python", "version": "2.7"},
}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"settings": {"FUNCTIONS_WORKER_RUNTIME": "python"}}, "Site.SiteConfig.AppSettings.FUNCTIONS_WORKER_RUNTIME"),
        ({"settings": {"website_run_from_package": "1"}}, "website_run_from_package"),
        ({"settings": {"WEBSITE_CONTENTSHARE": "share"}}, "WEBSITE_CONTENTSHARE"),
        ({"linuxFxVersion": "Python|3.11"}, "LinuxFxVersion is invalid"),
        ({"config": {}}, "blobContainer"),
        ({"config": OLD_PYTHON}, "not supported"),
    ],
    ids=["worker-runtime", "run-from-package-any-case", "content-share", "linux-fx", "no-deployment", "old-python"],
)
def test_a_flex_site_is_refused_what_flex_does_not_take(clients: Clients, change: dict, says: str) -> None:
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
    assert says in flex_refusal(clients, flex_site(plan.id, **change))


def test_a_flex_plan_is_linux_and_holds_one_app(clients: Clients) -> None:
    with pytest.raises(HttpResponseError) as caught:
        clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan(reserved=False)).result()
    assert caught.value.status_code == 400
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
    clients.web.web_apps.begin_create_or_update(GROUP, "twin-flex-000001", flex_site(plan.id)).result()
    assert "only one app" in flex_refusal(clients, flex_site(plan.id), app_name="twin-flex-000002")


def test_a_flex_sites_app_settings_update_is_refused_deprecated_names(clients: Clients) -> None:
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
    clients.web.web_apps.begin_create_or_update(GROUP, "twin-flex-000001", flex_site(plan.id)).result()
    with pytest.raises(HttpResponseError) as caught:
        clients.web.web_apps.update_application_settings(
            GROUP, "twin-flex-000001", {"properties": {"FUNCTIONS_EXTENSION_VERSION": "~4"}}
        )
    assert caught.value.status_code == 400


def _scaled_to(maximum: int) -> dict:
    body = flex_site("")
    config = dict(body["properties"]["functionAppConfig"])
    config["scaleAndConcurrency"] = {"instanceMemoryMB": 2048, "maximumInstanceCount": maximum}
    return config


def test_a_flex_site_may_scale_to_as_few_as_one_instance_and_no_fewer(clients: Clients) -> None:
    # Learn: event-driven-scaling, "Limit scale-out" (Flex): 1 to 1000 (the preview's floor was 40).
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
    one = clients.web.web_apps.begin_create_or_update(
        GROUP, "twin-flex-000001", flex_site(plan.id, config=_scaled_to(1))
    ).result()
    assert one.function_app_config.scale_and_concurrency.maximum_instance_count == 1
    assert "between 1 and 1000" in flex_refusal(clients, flex_site(plan.id, config=_scaled_to(0)))
    assert "between 1 and 1000" in flex_refusal(clients, flex_site(plan.id, config=_scaled_to(1001)))
