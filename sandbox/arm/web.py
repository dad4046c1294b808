"""Microsoft.Web (App Service): plans, function-app sites, their app settings, restart, trigger sync.

Plan and site PUTs answer in either documented shape (``asynchronous``): 200 with the resource, or
202 with the resource and an ``Azure-AsyncOperation`` URL that answers ``{"status": "InProgress"}``
until the operation's latency has passed (the spec's own examples, e.g. Microsoft.Web
AppService/stable/2025-05-01/examples/CreateOrUpdateFunctionAppFlexConsumption.json; the SDK
accepts 200 and 202 only, so 201 is not a shape these PUTs have). Fidelity points product code depends on:

* App settings given in ``siteConfig.appSettings`` on create become the site's settings, but a site
  GET never returns them (``appSettings`` is null); they are read with ``config/appsettings/list``
  and replaced wholesale by a PUT to ``config/appsettings``.
* A system-assigned identity gets a principalId that stays the same across re-PUTs.
* Site names are global (``{name}.azurewebsites.net``), and App Service reports its own errors in a
  capitalised ``{"Code", "Message"}`` document the SDK does not parse into ``error.code``.
* ``syncfunctiontriggers`` answers 200 in live Azure while the SDK accepts only 204
  (Azure/azure-rest-api-specs#1275), so the stand-in answers 200 by default; see ``sync_triggers_status``.
* A site's ``hostNameSslStates`` name its scm (Kudu) host as type Repository, as in the spec examples.
* Flex Consumption rules live in ``flex.py``; global names in ``names.py``; the content-share settings'
  validation in ``content_share.py``.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import content_share, flex, names
from .messages import ArmError, Call, Reply, location_required, resource_not_found
from .store import ResourceStore, provider_id

FARM_TYPE = "Microsoft.Web/serverfarms"
SITE_TYPE = "Microsoft.Web/sites"
_SETTINGS_SUFFIX = "/config/appsettings"


def _resource_id(call: Call, resource_type: str) -> str:
    return provider_id(call.subscription, call.params["group"], resource_type, call.params["name"])


def _web_operation(store: ResourceStore, call: Call, resource_id: str, location: str, **how: Any) -> Any:
    """An operation of Microsoft.Web, polled at its location's operationResults."""
    return store.start_operation(
        resource_id=resource_id,
        location_path=f"/subscriptions/{call.subscription}/providers/Microsoft.Web/locations/{location}/operationResults",
        api_version=call.api_version,
        delay=call.delay,
        polls_required=0,
        on_success=lambda: None,
        final_reply=lambda: Reply(200),
        **how,
    )


def _accept_and_fail(store: ResourceStore, call: Call, resource_id: str, location: str) -> Reply:
    return store.accepted(_web_operation(store, call, resource_id, location, failure=call.fail_with))


def _answer(store: ResourceStore, call: Call, resource_id: str, document: dict, *, asynchronous: bool) -> Reply:
    """200 with the resource, or 202 + Azure-AsyncOperation that completes after the route's latency."""
    if not asynchronous:
        return Reply(200, document)
    location = document["location"].lower().replace(" ", "")
    operation = _web_operation(store, call, resource_id, location, style="azure-async")
    return store.accepted_async(operation, document)


# --- server farms (App Service plans) --------------------------------------------------------


def create_or_update_farm(store: ResourceStore, call: Call, *, asynchronous: bool = False) -> Reply:
    body = call.body or {}
    store.require_group(call.subscription, call.params["group"], for_write=True)
    if not body.get("location"):
        raise location_required()
    resource_id = _resource_id(call, FARM_TYPE)
    flex.check_flex_plan(store, body)
    if call.fail_with is not None:
        return _accept_and_fail(store, call, resource_id, body["location"])
    existing = store.get(resource_id)
    properties = dict((existing or {}).get("properties") or {})
    properties.update(body.get("properties") or {})
    properties.update(
        {
            "provisioningState": "Succeeded",
            "status": "Ready",
            "reserved": bool(properties.get("reserved", False)),
            "resourceGroup": call.params["group"],
            "geoRegion": body["location"],
            "subscription": call.subscription,
        }
    )
    document = {
        "id": existing["id"] if existing else resource_id,
        "name": existing["name"] if existing else call.params["name"],
        "type": FARM_TYPE,
        "kind": body.get("kind", "app"),
        "location": body["location"],
        "tags": body.get("tags") or {},
        "sku": body.get("sku") or {"name": "Y1", "tier": "Dynamic"},
        "properties": properties,
    }
    store.put(resource_id, document)
    return _answer(store, call, resource_id, _with_site_count(store, document), asynchronous=asynchronous)


def get_farm(store: ResourceStore, call: Call) -> Reply:
    store.require_group(call.subscription, call.params["group"], for_write=False)
    document = store.get(_resource_id(call, FARM_TYPE))
    if document is None:
        raise resource_not_found(FARM_TYPE, call.params["name"], call.params["group"])
    return Reply(200, _with_site_count(store, document))


def _with_site_count(store: ResourceStore, farm: dict) -> dict:
    answer = copy.deepcopy(farm)
    answer["properties"]["numberOfSites"] = sum(
        1
        for site in store.find(SITE_TYPE)
        if (site["properties"].get("serverFarmId") or "").lower() == farm["id"].lower()
    )
    return answer


# --- sites (function apps) ---------------------------------------------------------------------


def create_or_update_site(store: ResourceStore, call: Call, *, asynchronous: bool = False) -> Reply:
    body = call.body or {}
    name = call.params["name"]
    store.require_group(call.subscription, call.params["group"], for_write=True)
    if not body.get("location"):
        raise location_required()
    resource_id = _resource_id(call, SITE_TYPE)
    if names.site_name_taken(store, name, except_id=resource_id):
        # Names are global: held by another site anywhere in Azure. App Service's bare 409 Conflict.
        raise ArmError(409, "Conflict", f"Website with given name {name} already exists.", web_format=True)
    given = copy.deepcopy(body.get("properties") or {})
    farm_id = given.get("serverFarmId")
    if farm_id and store.get(farm_id) is None:
        farm_name = farm_id.rstrip("/").rsplit("/", 1)[-1]
        raise ArmError(404, "NotFound", f"Cannot find ServerFarm with name {farm_name}.", web_format=True)
    existing = store.get(resource_id)
    farm = store.get(farm_id or (existing or {}).get("properties", {}).get("serverFarmId") or "")
    if flex.is_flex(farm):
        flex.check_flex_site(store, resource_id, farm, body, existing)  # type: ignore[arg-type]
    if call.fail_with is not None:
        return _accept_and_fail(store, call, resource_id, body["location"])

    site_config = given.get("siteConfig") or {}
    settings = site_config.get("appSettings")
    if settings is not None and not flex.is_flex(farm):
        content_share.check(store, {s["name"]: s.get("value") for s in settings})
    if settings is not None or existing is None:
        store.put(
            resource_id + _SETTINGS_SUFFIX,
            _settings_document(resource_id, body["location"], {s["name"]: s.get("value") for s in settings or []}),
        )
    if site_config:
        site_config["appSettings"] = None  # never echoed: settings are read through config/appsettings/list
    host, scm_host = f"{name}.azurewebsites.net".lower(), f"{name}.scm.azurewebsites.net".lower()
    properties = dict((existing or {}).get("properties") or {})
    properties.update(given)
    properties.update(
        {
            "state": "Running",
            "enabled": True,
            "usageState": "Normal",
            "availabilityState": "Normal",
            "defaultHostName": host,
            "hostNames": [host],
            "enabledHostNames": [host, scm_host],
            "hostNameSslStates": [
                {"name": host, "hostType": "Standard", "sslState": "Disabled"},
                {"name": scm_host, "hostType": "Repository", "sslState": "Disabled"},
            ],
            "resourceGroup": call.params["group"],
            "httpsOnly": bool(properties.get("httpsOnly", False)),
            "reserved": bool(properties.get("reserved", _farm_is_linux(store, farm_id))),
        }
    )
    document = {
        "id": existing["id"] if existing else resource_id,
        "name": existing["name"] if existing else name,
        "type": SITE_TYPE,
        "kind": body.get("kind", "app"),
        "location": body["location"],
        "tags": body.get("tags") or {},
        "properties": properties,
    }
    identity = _identity(store, body.get("identity"), (existing or {}).get("identity"))
    if identity is not None:
        document["identity"] = identity
    store.put(resource_id, document)
    return _answer(store, call, resource_id, document, asynchronous=asynchronous)


def get_site(store: ResourceStore, call: Call) -> Reply:
    return Reply(200, _require_site(store, call))


def update_application_settings(store: ResourceStore, call: Call) -> Reply:
    site = _require_site(store, call)
    given = (call.body or {}).get("properties") or {}
    if flex.is_flex(store.get(site["properties"].get("serverFarmId") or "")):
        flex.refuse_settings(given)
    else:
        content_share.check(store, {k: str(v) for k, v in given.items()})
    document = _settings_document(site["id"], site["location"], {k: str(v) for k, v in given.items()})
    store.put(site["id"] + _SETTINGS_SUFFIX, document)
    return Reply(200, document)


def list_application_settings(store: ResourceStore, call: Call) -> Reply:
    site = _require_site(store, call)
    document = store.get(site["id"] + _SETTINGS_SUFFIX) or _settings_document(site["id"], site["location"], {})
    return Reply(200, document)


def restart(store: ResourceStore, call: Call) -> Reply:
    _require_site(store, call)
    return Reply(200)


def sync_function_triggers(store: ResourceStore, call: Call, *, status: int) -> Reply:
    site = _require_site(store, call)
    if flex.is_flex(store.get(site["properties"].get("serverFarmId") or "")):
        flex.require_deployed_package(store, site)
    return Reply(status)


def _require_site(store: ResourceStore, call: Call) -> dict:
    store.require_group(call.subscription, call.params["group"], for_write=False)
    document = store.get(_resource_id(call, SITE_TYPE))
    if document is None:
        raise resource_not_found(SITE_TYPE, call.params["name"], call.params["group"])
    return document


def _settings_document(site_id: str, location: str, settings: dict[str, str | None]) -> dict:
    return {
        "id": site_id + _SETTINGS_SUFFIX,
        "name": "appsettings",
        "type": "Microsoft.Web/sites/config",
        "location": location,
        "properties": settings,
    }


def _farm_is_linux(store: ResourceStore, farm_id: str | None) -> bool:
    farm = store.get(farm_id) if farm_id else None
    return bool(farm and farm["properties"].get("reserved"))


def _identity(store: ResourceStore, asked: dict | None, current: dict | None) -> dict | None:
    """System-assigned identity: a principal that lives as long as the site does."""
    if asked is None:
        return current  # an identity left out of a re-PUT is left as it was
    kind = asked.get("type") or "None"
    if kind == "None":
        return None
    identity = copy.deepcopy(asked)
    if "SystemAssigned" in kind:
        known = (current or {}).get("principalId")
        identity["principalId"] = known or str(uuid.uuid4())
        identity["tenantId"] = store.tenant_id
        store.principals[identity["principalId"].lower()] = "ServicePrincipal"  # a managed identity
    return identity
