"""Function Apps: the plan and the site a brainstem runs in (bodies come from its runtime target).

Every call here is safe to repeat: plan and site PUTs are create-or-update, an app-settings PUT
replaces the settings with the same ones, and a trigger sync only re-reads what the app already has.
A plan or site PUT may answer 200, 201, or 202 with ``Azure-AsyncOperation`` (the spec's examples,
e.g. CreateOrUpdateFunctionAppFlexConsumption.json); azure-core's ARM poller follows each shape,
honouring Retry-After, so ``_finish`` only bounds how long one activity waits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import BrainstemNames
from controlplane.settings import get_settings

CREATE_WAIT_SECONDS = 240


@dataclass(frozen=True)
class Site:
    """What provisioning needs back from a site PUT. The principal is the site's system identity."""

    host: str
    principal_id: str | None


def ensure_plan(clients: ArmClients, names: BrainstemNames, body: dict[str, Any]) -> str:
    """Create or update the twin's plan; return its id."""
    poller = clients.web.app_service_plans.begin_create_or_update(names.resource_group, names.plan_name, body)  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
    return str(_finish(poller, f"plan {names.plan_name}").id)


def existing_plan(clients: ArmClients, names: BrainstemNames) -> str | None:
    """The twin's plan id if the plan exists (one GET: a read, not a write), else None."""
    try:
        return str(clients.web.app_service_plans.get(names.resource_group, names.plan_name).id)
    except ResourceNotFoundError:
        return None


def plan_for_update(clients: ArmClients, names: BrainstemNames, body: dict[str, Any]) -> str:
    """An update changes the site, not its plan: reuse the plan, re-create it only if it is gone."""
    return existing_plan(clients, names) or ensure_plan(clients, names, body)


def ensure_site(clients: ArmClients, names: BrainstemNames, body: dict[str, Any]) -> Site:
    """Create or update the twin's Function App; return its host name and identity."""
    poller = clients.web.web_apps.begin_create_or_update(names.resource_group, names.app_name, body)  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
    site = _finish(poller, f"site {names.app_name}")
    host = (
        str(site.properties.default_host_name or names.default_host_name)
        if site.properties
        else names.default_host_name
    )
    principal = site.identity.principal_id if site.identity else None
    return Site(host=host, principal_id=str(principal) if principal else None)


def sync_triggers(clients: ArmClients, names: BrainstemNames) -> None:
    """Tell the platform to re-read the app's triggers (it scales on them).

    Live Azure answers 200 where the spec (and so the SDK) says 204 (Azure/azure-rest-api-specs#1275):
    the SDK would raise on a success and log a failed deserialization each time, so the POST goes
    through the client's own pipeline (auth, retries, write budget) and both codes count as done, as
    the CLI's ``upload_zip_to_storage`` treats them.
    """
    url = (
        f"{get_settings().arm_endpoint}/subscriptions/{clients.subscription_id}/resourceGroups/{names.resource_group}/providers/Microsoft.Web"
        f"/sites/{names.app_name}/syncfunctiontriggers?api-version={clients.web._config.api_version}"  # noqa: SLF001
    )
    response = clients.web._client.send_request(HttpRequest("POST", url))  # noqa: SLF001
    if response.status_code not in (200, 204):
        raise HttpResponseError(response=response)


def _finish(poller, what: str):  # type: ignore[no-untyped-def]
    poller.wait(CREATE_WAIT_SECONDS)
    if not poller.done():
        raise TimeoutError(f"{what} still creating after {CREATE_WAIT_SECONDS}s")
    return poller.result()


def app_settings_list(app_settings: Mapping[str, str]) -> list[dict[str, str]]:
    """``siteConfig.appSettings``' shape: a list of name/value pairs (sorted, so bodies compare)."""
    return [{"name": k, "value": v} for k, v in sorted(app_settings.items())]


def current_app_settings(clients: ArmClients, names: BrainstemNames) -> dict[str, str]:
    """The app's settings now ({} before the site exists). Values may be secrets: keep them in the activity.

    A site GET never returns app settings; ``config/appsettings/list`` does (Microsoft.Web
    WebApps.json, WebApps_ListApplicationSettings), and it is what the CLI reads before it changes one.
    """
    try:
        found = clients.web.web_apps.list_application_settings(names.resource_group, names.app_name)
    except ResourceNotFoundError:
        return {}
    return {str(k): str(v) for k, v in (found.properties or {}).items()}


def update_app_settings(clients: ArmClients, names: BrainstemNames, app_settings: Mapping[str, str]) -> None:
    """Replace the app's settings wholesale (``PUT config/appsettings`` keeps nothing it is not given)."""
    clients.web.web_apps.update_application_settings(
        names.resource_group, names.app_name, {"properties": dict(app_settings)}
    )
