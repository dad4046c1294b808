"""Linux Consumption (Y1/Dynamic): what ``provision-twin-lite.sh`` creates. No new apps after Sept 2028.

The plan and site bodies match the script and the CLI's ``az functionapp create
--consumption-plan-location`` (azure-cli appservice/custom.py ``create_functionapp``), including the
content-share pair the CLI sets for every Consumption app, Linux too: WEBSITE_CONTENTAZUREFILECONNECTIONSTRING
(the app's storage connection string) and WEBSITE_CONTENTSHARE (the CLI's ``_get_content_share_name``:
the app name's first 50 characters, lower-cased, plus 12 hex digits — here a hash of the name instead of
random digits, so that building again names the same share). Current Learn (Storage considerations)
keeps content on Azure Files only for Windows Consumption and Premium and runs a Linux Consumption app
from its package URL, so the pair is not strictly needed; we follow the CLI, which the script this
replaces ran, and App Service validates the pair when settings are written (the ARM stand-in too,
sandbox/arm/content_share.py). Learn: "Changing or removing this setting may cause your function app
to not start" — so a share already set is kept, like the package.

The app's code is *not* part of the build: it is published afterwards, the way ``az functionapp
deployment source config-zip`` does it (``controlplane.arm.run_from_package``), so the same step can
update a running twin. Linux Consumption runs that package as-is, with no build (see
``controlplane.arm.package_source``: a Consumption package must carry its dependencies).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controlplane.arm import function_apps, storage_accounts
from controlplane.arm.build import Begun, Built
from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import TwinNames

RUN_FROM_PACKAGE = "WEBSITE_RUN_FROM_PACKAGE"
CONTENT_CONNECTION = "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"
CONTENT_SHARE = "WEBSITE_CONTENTSHARE"
# Without it the root URL serves the Functions landing page (200) with no code loaded (Learn: App
# settings reference, AzureWebJobsDisableHomepage), which would let a probe of "/" pass for nothing.
PLATFORM_FIXED_SETTINGS = {
    "FUNCTIONS_EXTENSION_VERSION": "~4",
    "FUNCTIONS_WORKER_RUNTIME": "python",
    "AzureWebJobsDisableHomepage": "true",
}


def content_share_name(app_name: str) -> str:
    """The CLI's shape (first 50 characters, lower-cased, 12 hex digits), the digits from the name."""
    return app_name[:50].lower() + hashlib.sha256(app_name.lower().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class LinuxConsumption:
    python_version: str

    def plan_body(self, names: TwinNames, *, region: str, tags: dict[str, str]) -> dict[str, Any]:
        return {
            "location": region,
            "kind": "functionapp",
            "sku": {"name": "Y1", "tier": "Dynamic"},
            "tags": tags,
            "properties": {"reserved": True},  # reserved = Linux
        }

    def site_body(
        self, names: TwinNames, *, region: str, tags: dict[str, str], plan_id: str, app_settings: dict[str, str]
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
        self, *, storage_connection: str, content_share: str, published_package: str | None = None,
        operator_settings: Mapping[str, str],
    ) -> dict[str, str]:  # fmt: skip
        """Operator settings, then the platform's (which win). ``published_package`` keeps code already published."""
        platform = {
            **PLATFORM_FIXED_SETTINGS,
            "AzureWebJobsStorage": storage_connection,
            CONTENT_CONNECTION: storage_connection,
            CONTENT_SHARE: content_share,
        }
        if published_package:
            platform[RUN_FROM_PACKAGE] = published_package
        return {**operator_settings, **platform}

    def begin_site(
        self, clients: ArmClients, names: TwinNames, *, region: str, tags: dict[str, str],
        operator_settings: Mapping[str, str],
    ) -> Begun:  # fmt: skip
        """Send the site's PUT on the (made) plan; the operation to poll, if ARM answered 202."""
        # A site PUT replaces every app setting: keep the package a publish already set, so that
        # building again (a retry, a re-provision) never takes a running twin's code away.
        current = function_apps.current_app_settings(clients, names)
        app_settings = self.app_settings(
            storage_connection=storage_accounts.storage_connection_string(clients, names),
            content_share=current.get(CONTENT_SHARE) or content_share_name(names.app_name),
            published_package=current.get(RUN_FROM_PACKAGE),
            operator_settings=operator_settings,
        )
        body = self.site_body(
            names, region=region, tags=tags, plan_id=function_apps.plan_id(clients, names), app_settings=app_settings
        )
        return Begun(operation_url=function_apps.begin_site(clients, names, body), settings=sorted(app_settings))

    def finish(self, clients: ArmClients, names: TwinNames) -> Built:
        """The made site: nothing more to write for Linux Consumption."""
        site = function_apps.read_site(clients, names)
        return Built(host=site.host, settings=[])
