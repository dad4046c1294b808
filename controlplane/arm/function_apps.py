"""Function Apps: the plan and the site a brainstem runs in (bodies come from its runtime target).

Every call here is safe to repeat: plan and site PUTs are create-or-update, an app-settings PUT
replaces the settings with the same ones, and a trigger sync only re-reads what the app already has.
A plan or site PUT answers 200 with the resource, or 202 with the resource and ``Azure-AsyncOperation``
(Microsoft.Web WebApps.json ``WebApps_CreateOrUpdate`` and AppServicePlans.json
``AppServicePlans_CreateOrUpdate``: ``x-ms-long-running-operation``, responses 200 and 202; the
example CreateOrUpdateFunctionAppFlexConsumption.json shows both). ``begin_plan`` and ``begin_site``
send the PUT and hand back the operation URL, so the orchestration polls it on durable timers and no
activity slot waits on ARM (``orchestrators.operations``); the URL, not azure-core's continuation
token, travels, because the token pickles the initial response, request headers included (see
``resource_groups.begin_delete_resource_group``). ``_finish`` (an SDK poller, bounded) is kept for the
one rare case that still waits: an update whose plan has gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from controlplane.arm.clients import ArmClients
from controlplane.arm.resource_groups import operation_url
from controlplane.domain.naming import TwinNames
from controlplane.settings import get_settings

CREATE_WAIT_SECONDS = 240


@dataclass(frozen=True)
class Site:
    """What provisioning needs back from a site PUT. The principal is the site's system identity."""

    host: str
    principal_id: str | None


def ensure_plan(clients: ArmClients, names: TwinNames, body: dict[str, Any]) -> str:
    """Create or update the twin's plan; return its id."""
    poller = clients.web.app_service_plans.begin_create_or_update(names.resource_group, names.plan_name, body)  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
    return str(_finish(poller, f"plan {names.plan_name}").id)


def begin_plan(clients: ArmClients, names: TwinNames, body: dict[str, Any]) -> str | None:
    """Send the plan's PUT; the operation URL to poll, or None when ARM answered 200 (it is there)."""
    poller = clients.web.app_service_plans.begin_create_or_update(  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
        names.resource_group, names.plan_name, body, polling=False
    )
    return operation_url(poller)


def plan_id(clients: ArmClients, names: TwinNames) -> str:
    """The plan's ARM id: ARM ids are the resource's path, so it is known before the plan is."""
    return (
        f"/subscriptions/{clients.subscription_id}/resourceGroups/{names.resource_group}"
        f"/providers/Microsoft.Web/serverfarms/{names.plan_name}"
    )


def existing_plan(clients: ArmClients, names: TwinNames) -> str | None:
    """The twin's plan id if the plan exists (one GET: a read, not a write), else None."""
    try:
        return str(clients.web.app_service_plans.get(names.resource_group, names.plan_name).id)
    except ResourceNotFoundError:
        return None


def plan_for_update(clients: ArmClients, names: TwinNames, body: dict[str, Any]) -> str:
    """An update changes the site, not its plan: reuse the plan, re-create it only if it is gone."""
    return existing_plan(clients, names) or ensure_plan(clients, names, body)


def begin_site(clients: ArmClients, names: TwinNames, body: dict[str, Any]) -> str | None:
    """Send the site's PUT; the operation URL to poll, or None when ARM answered 200 (it is made)."""
    poller = clients.web.web_apps.begin_create_or_update(  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
        names.resource_group, names.app_name, body, polling=False
    )
    return operation_url(poller)


def read_site(clients: ArmClients, names: TwinNames) -> Site:
    """The made site's host name and identity (one GET: a read, not a write)."""
    return _site(clients.web.web_apps.get(names.resource_group, names.app_name), names)


def _site(site: Any, names: TwinNames) -> Site:
    host = (
        str(site.properties.default_host_name or names.default_host_name)
        if site.properties
        else names.default_host_name
    )
    principal = site.identity.principal_id if site.identity else None
    return Site(host=host, principal_id=str(principal) if principal else None)


def sync_triggers(clients: ArmClients, names: TwinNames) -> None:
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


def current_app_settings(clients: ArmClients, names: TwinNames) -> dict[str, str]:
    """The app's settings now ({} before the site exists). Values may be secrets: keep them in the activity.

    A site GET never returns app settings; ``config/appsettings/list`` does (Microsoft.Web
    WebApps.json, WebApps_ListApplicationSettings), and it is what the CLI reads before it changes one.
    """
    try:
        found = clients.web.web_apps.list_application_settings(names.resource_group, names.app_name)
    except ResourceNotFoundError:
        return {}
    return {str(k): str(v) for k, v in (found.properties or {}).items()}


def update_app_settings(clients: ArmClients, names: TwinNames, app_settings: Mapping[str, str]) -> None:
    """Replace the app's settings wholesale (``PUT config/appsettings`` keeps nothing it is not given)."""
    clients.web.web_apps.update_application_settings(
        names.resource_group, names.app_name, {"properties": dict(app_settings)}
    )
