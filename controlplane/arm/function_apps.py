"""Function Apps: the plan and the site a brainstem runs in (bodies come from its runtime target).

Every call here is safe to repeat: plan and site PUTs are create-or-update, a restart of a running
app is harmless, and a trigger sync only re-reads what the app already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import BrainstemNames

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


def restart(clients: ArmClients, names: BrainstemNames) -> None:
    """Restart the app so it loads the code just published."""
    clients.web.web_apps.restart(names.resource_group, names.app_name)


def sync_triggers(clients: ArmClients, names: BrainstemNames) -> None:
    """Tell the platform to re-read the app's triggers (it scales on them).

    Live Azure answers 200 where the SDK expects 204 (Azure/azure-rest-api-specs#1275), so the SDK
    raises on a success; both codes mean the sync happened.
    """
    try:
        clients.web.web_apps.sync_function_triggers(names.resource_group, names.app_name)
    except HttpResponseError as exc:
        if exc.status_code not in (200, 204):
            raise


def _finish(poller, what: str):  # type: ignore[no-untyped-def]
    poller.wait(CREATE_WAIT_SECONDS)
    if not poller.done():
        raise TimeoutError(f"{what} still creating after {CREATE_WAIT_SECONDS}s")
    return poller.result()
