"""Flex Consumption (FC1): Linux Consumption's successor. One app per plan, so one plan per twin.

The app holds no storage key: the host reaches the twin's storage account with the site's
system-assigned identity (granted blob, queue and table data roles there), the account refuses
shared keys, and the code is the package in a private blob container of that same account, put
there by One Deploy (``controlplane.arm.one_deploy``) after the build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controlplane.arm import function_apps, role_assignments, storage_accounts
from controlplane.arm.build import Begun, Built
from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import TwinNames
from controlplane.domain.step_errors import StepFailure
from controlplane.settings import get_settings

# App settings a Flex Consumption app must not carry: their job moved into functionAppConfig (runtime,
# version, scale, deployment) or went away (Azure Files content share, Oryx/Kudu build switches,
# per-app worker and concurrency knobs). The list is the Azure CLI's own: the settings
# `az functionapp flex-migration start` refuses to carry over to a Flex app (azure-cli
# src/azure-cli/azure/cli/command_modules/appservice/custom.py, _migrate_app_settings,
# excluded_settings), which matches Learn's "Flex Consumption plan deprecations" (App settings
# reference). The CLI also skips APPLICATIONINSIGHTS_CONNECTION_STRING and AzureWebJobsDashboard
# there, for migration reasons of its own (a new Application Insights; a v1-only setting): Flex
# accepts them, so an operator may still set them.
FLEX_REFUSED_SETTINGS = frozenset(
    {
        "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED",
        "WEBSITE_MOUNT_ENABLED",
        "ENABLE_ORYX_BUILD",
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "FUNCTIONS_MAX_HTTP_CONCURRENCY",
        "FUNCTIONS_WORKER_PROCESS_COUNT",
        "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTOVERVNET",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_DNS_SERVER",
        "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
        "WEBSITE_NODE_DEFAULT_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
        "WEBSITE_VNET_ROUTE_ALL",
    }
)
# The host reaches its storage with the app's identity; these are the only AzureWebJobsStorage* it gets.
_HOST_STORAGE_PREFIX = "azurewebjobsstorage"


def without_flex_refused(app_settings: Mapping[str, str]) -> dict[str, str]:
    """``app_settings`` minus every setting Flex refuses (names compared case-insensitively, as App Service does)."""
    return {k: v for k, v in app_settings.items() if k.upper() not in FLEX_REFUSED_SETTINGS}


@dataclass(frozen=True)
class FlexConsumption:
    python_version: str

    @staticmethod
    def deployment_container(names: TwinNames) -> str:
        # Named after the app, as `az functionapp create --flexconsumption-location` names its own.
        return f"app-package-{names.app_name}"

    def plan_body(self, names: TwinNames, *, region: str, tags: dict[str, str]) -> dict[str, Any]:
        return {
            "location": region,
            "kind": "functionapp",
            "sku": {"name": "FC1", "tier": "FlexConsumption"},
            "tags": tags,
            "properties": {"reserved": True},  # reserved = Linux (Flex is Linux only)
        }

    def site_body(
        self, names: TwinNames, *, region: str, tags: dict[str, str], plan_id: str, app_settings: dict[str, str],
        deployment_url: str, instance_memory_mb: int, maximum_instance_count: int,
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "location": region,
            "kind": "functionapp,linux",
            "tags": tags,
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "serverFarmId": plan_id,
                "httpsOnly": True,
                # No linuxFxVersion here: on Flex the runtime is functionAppConfig.runtime.
                "siteConfig": {
                    "minTlsVersion": "1.2",
                    "appSettings": function_apps.app_settings_list(without_flex_refused(app_settings)),
                },
                "functionAppConfig": {
                    "deployment": {
                        "storage": {
                            "type": "blobContainer",
                            "value": deployment_url,
                            "authentication": {"type": "SystemAssignedIdentity"},
                        }
                    },
                    "runtime": {"name": "python", "version": self.python_version},
                    "scaleAndConcurrency": {
                        "instanceMemoryMB": instance_memory_mb,
                        "maximumInstanceCount": maximum_instance_count,
                    },
                },
            },
        }

    def app_settings(
        self, *, operator_settings: Mapping[str, str], storage: storage_accounts.StorageEndpoints
    ) -> dict[str, str]:
        operator = {
            k: v for k, v in without_flex_refused(operator_settings).items()
            if not k.lower().startswith(_HOST_STORAGE_PREFIX)
        }  # fmt: skip
        return {
            **operator,
            # Identity-based host storage: service URIs from ARM (right in every cloud), no key.
            "AzureWebJobsStorage__blobServiceUri": storage.blob.rstrip("/"),
            "AzureWebJobsStorage__queueServiceUri": storage.queue.rstrip("/"),
            "AzureWebJobsStorage__tableServiceUri": storage.table.rstrip("/"),
            # No landing page at "/": readiness must be proven by the brainstem's own route.
            "AzureWebJobsDisableHomepage": "true",
        }

    def begin_site(
        self, clients: ArmClients, names: TwinNames, *, region: str, tags: dict[str, str],
        operator_settings: Mapping[str, str],
    ) -> Begun:  # fmt: skip
        """The deployment container, then the site's PUT on the (made) plan; the operation to poll, if any."""
        settings = get_settings()
        storage = storage_accounts.storage_endpoints(clients, names)
        container = self.deployment_container(names)
        storage_accounts.ensure_blob_container(clients, names, container)
        app_settings = self.app_settings(operator_settings=operator_settings, storage=storage)
        body = self.site_body(
            names, region=region, tags=tags, plan_id=function_apps.plan_id(clients, names),
            app_settings=app_settings, deployment_url=storage.blob + container,
            instance_memory_mb=settings.flex_instance_memory_mb,
            maximum_instance_count=settings.flex_maximum_instance_count,
        )  # fmt: skip
        return Begun(operation_url=function_apps.begin_site(clients, names, body), settings=sorted(app_settings))

    def finish(self, clients: ArmClients, names: TwinNames) -> Built:
        """The made site's identity gets its storage roles (it exists only once the site is made)."""
        site = function_apps.read_site(clients, names)
        if not site.principal_id:
            raise StepFailure(
                "IdentityMissing", f"site {names.app_name} came back without a system identity", transient=True
            )
        storage = storage_accounts.storage_endpoints(clients, names)
        role_assignments.ensure_role_assignments(
            clients,
            scope=storage.account_id,
            principal_id=site.principal_id,
            role_ids=role_assignments.HOST_STORAGE_ROLES,
        )
        return Built(host=site.host, settings=[])
