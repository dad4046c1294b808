"""Linux Consumption (Y1/Dynamic): what ``provision-twin-lite.sh`` creates. No new apps after Sept 2028.

The plan and site bodies match the script (and the CLI's ``az functionapp create
--consumption-plan-location``). The app's code is *not* part of the build: it is published
afterwards, the way ``az functionapp deployment source config-zip`` does it
(``controlplane.arm.run_from_package``), so the same step can update a running twin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controlplane.arm import function_apps, storage_accounts
from controlplane.arm.build import Begun, Built
from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import BrainstemNames

RUN_FROM_PACKAGE = "WEBSITE_RUN_FROM_PACKAGE"
# Without it the root URL serves the Functions landing page (200) with no code loaded (Learn: App
# settings reference, AzureWebJobsDisableHomepage), which would let a probe of "/" pass for nothing.
PLATFORM_FIXED_SETTINGS = {
    "FUNCTIONS_EXTENSION_VERSION": "~4",
    "FUNCTIONS_WORKER_RUNTIME": "python",
    "AzureWebJobsDisableHomepage": "true",
}


@dataclass(frozen=True)
class LinuxConsumption:
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
                    "appSettings": function_apps.app_settings_list(app_settings),
                },
            },
        }

    def app_settings(
        self, *, storage_connection: str, published_package: str | None = None, operator_settings: Mapping[str, str]
    ) -> dict[str, str]:
        """Operator settings, then the platform's (which win). ``published_package`` keeps code already published."""
        platform = {**PLATFORM_FIXED_SETTINGS, "AzureWebJobsStorage": storage_connection}
        if published_package:
            platform[RUN_FROM_PACKAGE] = published_package
        return {**operator_settings, **platform}

    def begin_site(
        self, clients: ArmClients, names: BrainstemNames, *, region: str, tags: dict[str, str],
        operator_settings: Mapping[str, str],
    ) -> Begun:  # fmt: skip
        """Send the site's PUT on the (made) plan; the operation to poll, if ARM answered 202."""
        # A site PUT replaces every app setting: keep the package a publish already set, so that
        # building again (a retry, a re-provision) never takes a running twin's code away.
        published = function_apps.current_app_settings(clients, names).get(RUN_FROM_PACKAGE)
        app_settings = self.app_settings(
            storage_connection=storage_accounts.storage_connection_string(clients, names),
            published_package=published,
            operator_settings=operator_settings,
        )
        body = self.site_body(
            names, region=region, tags=tags, plan_id=function_apps.plan_id(clients, names), app_settings=app_settings
        )
        return Begun(operation_url=function_apps.begin_site(clients, names, body), settings=sorted(app_settings))

    def finish(self, clients: ArmClients, names: BrainstemNames) -> Built:
        """The made site: nothing more to write for Linux Consumption."""
        site = function_apps.read_site(clients, names)
        return Built(host=site.host, settings=[])
