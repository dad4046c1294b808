"""A twin made the way ``provision-twin-lite.sh`` makes one, through the Azure SDKs, not the control plane.

The script's az commands and the requests they send (azure-cli ``az group create --tags``, ``az storage
account create``, ``az functionapp create --consumption-plan-location --runtime python
--runtime-version 3.11 --os-type linux --functions-version 4``, whose plan is a Dynamic ``Y1`` one and
whose site carries ``linuxFxVersion=Python|3.11``, then ``config-zip``, which points
``WEBSITE_RUN_FROM_PACKAGE`` at the package). Names as the script derives them (controlplane.domain.naming
states the same rules; the seeds hold the script).
"""

from __future__ import annotations

from controlplane.arm.clients import arm_clients
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.settings import get_settings

SCRIPT_OWNER = "wildhaven-ai-homes"  # the owner tag the script writes


def make_script_twin(
    name: str,
    *,
    subscription_id: str,
    region: str = "eastus2",
    owner: str | None = SCRIPT_OWNER,
    runtime: str = "Python|3.11",
) -> TwinNames:
    names = twin_names(name)
    clients = arm_clients(subscription_id)
    tags = {"twin": name, "stack": "TwinStack"} | ({"owner": owner} if owner else {})
    clients.resources.resource_groups.create_or_update(names.resource_group, {"location": region, "tags": tags})
    clients.storage.storage_accounts.begin_create(
        names.resource_group, names.storage_account,
        {"location": region, "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
    ).result()  # fmt: skip
    plan = clients.web.app_service_plans.begin_create_or_update(
        names.resource_group, f"{region.title().replace(' ', '')}LinuxDynamicPlan",
        {"location": region, "kind": "functionapp", "sku": {"name": "Y1", "tier": "Dynamic"}, "properties": {"reserved": True}},
    ).result()  # fmt: skip
    package = get_settings().package_url("main")
    clients.web.web_apps.begin_create_or_update(
        names.resource_group, names.app_name,
        {
            "location": region, "kind": "functionapp,linux",
            "properties": {
                "serverFarmId": plan.id, "reserved": True,
                "siteConfig": {
                    "linuxFxVersion": runtime,
                    "appSettings": [
                        {"name": "FUNCTIONS_EXTENSION_VERSION", "value": "~4"},
                        {"name": "FUNCTIONS_WORKER_RUNTIME", "value": "python"},
                        {"name": "AzureWebJobsDisableHomepage", "value": "true"},
                        {"name": "WEBSITE_RUN_FROM_PACKAGE", "value": package},
                    ],
                },
            },
        },
    ).result()  # fmt: skip
    return names
