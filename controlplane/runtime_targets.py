"""Runtime targets: how a twin's plan and Function App are built. The seam for new hosting kinds.

A target turns (names, region, app settings) into the plan and site bodies ARM receives. Adding a
target is adding one entry to TARGETS; the provisioning workflow does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from controlplane.errors import InvalidInput
from controlplane.naming import TwinNames


class RuntimeTarget(Protocol):
    name: str

    def plan_body(self, names: TwinNames, *, region: str, tags: dict[str, str]) -> dict: ...

    def site_body(
        self, names: TwinNames, *, region: str, tags: dict[str, str], plan_id: str, app_settings: dict[str, str]
    ) -> dict: ...


@dataclass(frozen=True)
class LinuxConsumption:
    """Linux Consumption (Y1/Dynamic): what provision-twin-lite.sh creates. No new apps after Sept 2028."""

    name: str
    python_version: str

    def plan_body(self, names: TwinNames, *, region: str, tags: dict[str, str]) -> dict:
        return {
            "location": region,
            "kind": "functionapp",
            "sku": {"name": "Y1", "tier": "Dynamic"},
            "tags": tags,
            "properties": {"reserved": True},  # reserved = Linux
        }

    def site_body(
        self, names: TwinNames, *, region: str, tags: dict[str, str], plan_id: str, app_settings: dict[str, str]
    ) -> dict:
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
                    "appSettings": [{"name": k, "value": v} for k, v in sorted(app_settings.items())],
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


TARGETS: dict[str, LinuxConsumption] = {
    "azure-consumption-py311": LinuxConsumption("azure-consumption-py311", "3.11"),
}


def get_target(name: object) -> LinuxConsumption:
    if not isinstance(name, str) or name not in TARGETS:
        raise InvalidInput("runtime_target", f"runtime_target must be one of: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]
