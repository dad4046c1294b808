"""What a subscription holds, read with two paged lists: never a call per twin, never a write.

- Resource groups tagged ``stack=TwinStack``: ResourceGroups_List with ARM's tag filter
  (``$filter=tagName eq 'stack' and tagValue eq 'TwinStack'``, the form the spec documents and
  ``az group list --tag`` sends).
- Function Apps: WebApps_List (``/providers/Microsoft.Web/sites``), every app of the subscription.

The SDKs' pagers follow ``nextLink`` to the end. A 429 or 5xx is retried by azure-core's policy
(honouring Retry-After); if it persists the error propagates and the caller changes nothing, so a
half-read inventory never marks a twin missing.
"""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError

from controlplane.arm.clients import ArmClients
from controlplane.domain.drift import STACK_TAG, STACK_VALUE, Inventory, TaggedGroup
from controlplane.domain.runtime_targets import RuntimeTargetSpec, target_of_site

TAG_FILTER = f"tagName eq '{STACK_TAG}' and tagValue eq '{STACK_VALUE}'"


def tagged_groups(clients: ArmClients) -> list[TaggedGroup]:
    return [
        TaggedGroup(str(group.name), str(group.location), dict(group.tags) if group.tags is not None else None)
        for group in clients.resources.resource_groups.list(filter=TAG_FILTER)
    ]


def site_names(clients: ArmClients) -> list[tuple[str, str]]:
    """(resource group, site name) of every app in the subscription, the group read from the app's id."""
    return [(_group_of(str(site.id)), str(site.name)) for site in clients.web.web_apps.list()]


def _group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [part.lower() for part in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def scan(clients: ArmClients) -> Inventory:
    return Inventory.build(clients.subscription_id, tagged_groups(clients), site_names(clients))


def read_group_tags(clients: ArmClients, group_name: str) -> dict[str, str]:
    """One group's tags (adoption only, when a list did not carry them)."""
    return dict(clients.resources.resource_groups.get(group_name).tags or {})


def site_runtime(clients: ArmClients, group_name: str, app_name: str) -> tuple[bool, RuntimeTargetSpec | None, str]:
    """(site exists, the catalog target it runs or None, what ARM says it runs): adoption only."""
    try:
        site = clients.web.web_apps.get(group_name, app_name)
    except ResourceNotFoundError:
        return False, None, ""
    config = site.function_app_config
    runtime = config.runtime if config is not None else None
    flex = (str(runtime.name), str(runtime.version)) if runtime is not None and runtime.name else None
    fx = site.site_config.linux_fx_version if site.site_config is not None else None
    described = f"{flex[0]} {flex[1]} on Flex" if flex else (fx or "no runtime")
    return True, target_of_site(fx, flex), described
