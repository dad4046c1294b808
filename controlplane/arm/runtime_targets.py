"""Runtime targets: how a twin's plan and Function App are built. The seam for new hosting kinds.

A target's ``build`` takes the twin's names and the operator's app settings and makes its Function
App through the adapters (one module per Azure resource type); its body builders turn names into
exactly what ARM receives. Adding a target is adding one entry to TARGETS; the provisioning
workflow does not change. Every ``build`` is idempotent: Durable runs an activity at least once.

    azure-consumption-py311   Linux Consumption (Y1): app settings carry the storage key and package URL
    azure-flex-py311/-py312/-py313   Flex Consumption (FC1): identity-based storage, code in a blob container
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from controlplane.arm import deployment_packages, function_apps, role_assignments, storage_accounts
from controlplane.arm.clients import ArmClients
from controlplane.domain.errors import InvalidInput
from controlplane.domain.naming import BrainstemNames
from controlplane.domain.step_errors import StepFailure
from controlplane.settings import get_settings


@dataclass(frozen=True)
class Built:
    """What an activity may return about a built app: no secret, no setting value."""

    host: str
    settings: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    def to_result(self) -> dict[str, Any]:
        return {"host": self.host, "settings": self.settings, **self.details}


class RuntimeTarget(Protocol):
    @property
    def name(self) -> str: ...

    def build(
        self, clients: ArmClients, names: BrainstemNames, *, region: str, tags: dict[str, str], deploy_ref: str,
        package_url: str, operator_settings: Mapping[str, str], update: bool = False,
    ) -> Built: ...  # fmt: skip


def _app_settings_list(app_settings: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(app_settings.items())]


# --- Linux Consumption ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LinuxConsumption:
    """Linux Consumption (Y1/Dynamic): what provision-twin-lite.sh creates. No new apps after Sept 2028."""

    name: str
    python_version: str

    def plan_body(self, names: BrainstemNames, *, region: str, tags: dict[str, str]) -> dict[str, Any]:
        return {
            "location": region,
            "kind": "functionapp",
            "sku": {"name": "Y1", "tier": "Dynamic"},
            "tags": tags,
            "properties": {"reserved": True},  # reserved = Linux
        }

    def site_body(
        self, names: BrainstemNames, *, region: str, tags: dict[str, str], plan_id: str, app_settings: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "location": region,
            "kind": "functionapp,linux",
            "tags": tags,
            "properties": {
                "serverFarmId": plan_id,
                "reserved": True,
                "httpsOnly": True,
                "siteConfig": {
                    "linuxFxVersion": f"Python|{self.python_version}",
                    "ftpsState": "Disabled",
                    "minTlsVersion": "1.2",
                    "appSettings": _app_settings_list(app_settings),
                },
            },
        }

    def app_settings(self, *, storage_connection: str, package_url: str) -> dict[str, str]:
        return {
            "FUNCTIONS_EXTENSION_VERSION": "~4",
            "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage": storage_connection,
            "WEBSITE_RUN_FROM_PACKAGE": package_url,
        }

    def build(
        self, clients: ArmClients, names: BrainstemNames, *, region: str, tags: dict[str, str], deploy_ref: str,
        package_url: str, operator_settings: Mapping[str, str], update: bool = False,
    ) -> Built:  # fmt: skip
        platform = self.app_settings(
            storage_connection=storage_accounts.storage_connection_string(clients, names), package_url=package_url
        )
        app_settings = {**operator_settings, **platform}
        plan = function_apps.plan_for_update if update else function_apps.ensure_plan
        plan_id = plan(clients, names, self.plan_body(names, region=region, tags=tags))
        site = function_apps.ensure_site(
            clients, names, self.site_body(names, region=region, tags=tags, plan_id=plan_id, app_settings=app_settings)
        )
        return Built(host=site.host, settings=sorted(app_settings))


# --- Flex Consumption ------------------------------------------------------------------------------

# App settings Microsoft lists as deprecated for Flex Consumption: runtime, version and code location
# live in functionAppConfig, there is no Azure Files content share and no Oryx build on deployment.
# ARM refuses a Flex site that has them, so they are never sent, whoever asked for them.
FLEX_DEPRECATED_SETTINGS = frozenset(
    {
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_NODE_DEFAULT_VERSION",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
    }
)
# The host reaches its storage with the app's identity; these are the only AzureWebJobsStorage* it gets.
_HOST_STORAGE_PREFIX = "azurewebjobsstorage"


def without_flex_deprecated(app_settings: Mapping[str, str]) -> dict[str, str]:
    """``app_settings`` minus every setting Flex refuses (names compared case-insensitively, as App Service does)."""
    return {k: v for k, v in app_settings.items() if k.upper() not in FLEX_DEPRECATED_SETTINGS}


@dataclass(frozen=True)
class FlexConsumption:
    """Flex Consumption (FC1): Linux Consumption's successor. One app per plan, so one plan per twin.

    The app holds no storage key: the host reaches the twin's storage account with the site's
    system-assigned identity (granted blob, queue and table data roles there), and its code is the
    package in a private blob container of that same account.
    """

    name: str
    python_version: str

    @staticmethod
    def deployment_container(names: BrainstemNames) -> str:
        # Named after the app, as `az functionapp create --flexconsumption-location` names its own.
        return f"app-package-{names.app_name}"

    def plan_body(self, names: BrainstemNames, *, region: str, tags: dict[str, str]) -> dict[str, Any]:
        return {
            "location": region,
            "kind": "functionapp",
            "sku": {"name": "FC1", "tier": "FlexConsumption"},
            "tags": tags,
            "properties": {"reserved": True},  # reserved = Linux (Flex is Linux only)
        }

    def site_body(
        self, names: BrainstemNames, *, region: str, tags: dict[str, str], plan_id: str, app_settings: dict[str, str],
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
                    "appSettings": _app_settings_list(without_flex_deprecated(app_settings)),
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
            k: v for k, v in without_flex_deprecated(operator_settings).items()
            if not k.lower().startswith(_HOST_STORAGE_PREFIX)
        }  # fmt: skip
        return {
            **operator,
            # Identity-based host storage: service URIs from ARM (right in every cloud), no key.
            "AzureWebJobsStorage__blobServiceUri": storage.blob.rstrip("/"),
            "AzureWebJobsStorage__queueServiceUri": storage.queue.rstrip("/"),
            "AzureWebJobsStorage__tableServiceUri": storage.table.rstrip("/"),
        }

    def build(
        self, clients: ArmClients, names: BrainstemNames, *, region: str, tags: dict[str, str], deploy_ref: str,
        package_url: str, operator_settings: Mapping[str, str], update: bool = False,
    ) -> Built:  # fmt: skip
        settings = get_settings()
        storage = storage_accounts.storage_endpoints(clients, names)
        container = self.deployment_container(names)
        storage_accounts.ensure_blob_container(clients, names, container)
        app_settings = self.app_settings(operator_settings=operator_settings, storage=storage)

        plan = function_apps.plan_for_update if update else function_apps.ensure_plan
        plan_id = plan(clients, names, self.plan_body(names, region=region, tags=tags))
        site = function_apps.ensure_site(
            clients, names,
            self.site_body(
                names, region=region, tags=tags, plan_id=plan_id, app_settings=app_settings,
                deployment_url=storage.blob + container, instance_memory_mb=settings.flex_instance_memory_mb,
                maximum_instance_count=settings.flex_maximum_instance_count,
            ),
        )  # fmt: skip
        if not site.principal_id:
            raise StepFailure(
                "IdentityMissing", f"site {names.app_name} came back without a system identity", transient=True
            )
        role_assignments.ensure_role_assignments(
            clients,
            scope=storage.account_id,
            principal_id=site.principal_id,
            role_ids=role_assignments.HOST_STORAGE_ROLES,
        )

        with deployment_packages.fetch_package(package_url) as package:
            deployment_packages.publish_package(
                package, blob_endpoint=storage.blob, container=container, deploy_ref=deploy_ref
            )
        function_apps.restart(clients, names)
        function_apps.sync_triggers(clients, names)
        return Built(host=site.host, settings=sorted(app_settings), details={"package_sha256": package.sha256})


TARGETS: dict[str, RuntimeTarget] = {
    "azure-consumption-py311": LinuxConsumption("azure-consumption-py311", "3.11"),
    "azure-flex-py311": FlexConsumption("azure-flex-py311", "3.11"),
    "azure-flex-py312": FlexConsumption("azure-flex-py312", "3.12"),
    # Flex Consumption runs Python 3.13 (Learn: "Supported languages in Azure Functions", and
    # `az functionapp list-flexconsumption-runtimes`), the version the control plane itself runs on.
    "azure-flex-py313": FlexConsumption("azure-flex-py313", "3.13"),
}


def get_target(name: object) -> RuntimeTarget:
    if not isinstance(name, str) or name not in TARGETS:
        raise InvalidInput("runtime_target", f"runtime_target must be one of: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]
