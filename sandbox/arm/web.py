"""Microsoft.Web (App Service): plans, function-app sites, their app settings, restart, trigger sync.

Plans and sites are created synchronously here (200, which ``begin_create_or_update`` accepts and
treats as done); the real provider does that for small changes and is free to go asynchronous,
which the ``lro_failed`` fault exercises. Fidelity points product code depends on:

* App settings given in ``siteConfig.appSettings`` on create become the site's settings, but a site
  GET never returns them (``appSettings`` is null); they are read with ``config/appsettings/list``
  and replaced wholesale by a PUT to ``config/appsettings``.
* A system-assigned identity gets a principalId that stays the same across re-PUTs.
* Site names are global (``{name}.azurewebsites.net``), and App Service reports its own errors in a
  capitalised ``{"Code", "Message"}`` document the SDK does not parse into ``error.code``.
* ``syncfunctiontriggers`` answers 200 in live Azure while the SDK accepts only 204
  (Azure/azure-rest-api-specs#1275), so the stand-in answers 200 by default; see ``sync_triggers_status``.
* Flex Consumption (plan sku FC1): one app per plan; the site must carry ``functionAppConfig``
  (deployment blob container, runtime, scale) and is refused with the app settings and site
  properties Flex deprecates (``FUNCTIONS_WORKER_RUNTIME``, ``WEBSITE_RUN_FROM_PACKAGE``,
  ``linuxFxVersion``...), in App Service's own error shape.
"""

from __future__ import annotations

import copy
import uuid

from .messages import ArmError, Call, Reply, location_required, resource_not_found
from .store import ResourceStore, provider_id

FARM_TYPE = "Microsoft.Web/serverfarms"
SITE_TYPE = "Microsoft.Web/sites"
_SETTINGS_SUFFIX = "/config/appsettings"

FLEX_TIER = "FlexConsumption"
# App settings a Flex Consumption site refuses (their job moved into functionAppConfig, or went away).
# Kept apart from controlplane.arm.runtime_targets' copy on purpose: the stand-in plays ARM, so a setting
# the product forgot to strip is refused here instead of slipping through a shared list.
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
# Python on FC1 per Microsoft's stack list (Microsoft.Web/functionAppStacks, as shipped in
# Azure/azure-powershell src/Functions/Functions.Autorest/custom/FunctionsStack/functionAppStacks.json):
# 3.10 (end of life 31 Oct 2026), 3.11, 3.12, 3.13 GA; 3.14 preview.
FLEX_RUNTIMES = {"python": {"3.10", "3.11", "3.12", "3.13", "3.14"}}
FLEX_INSTANCE_MEMORY_MB = {512, 2048, 4096}


def _resource_id(call: Call, resource_type: str) -> str:
    return provider_id(call.subscription, call.params["group"], resource_type, call.params["name"])


def _accept_and_fail(store: ResourceStore, call: Call, resource_id: str, location: str) -> Reply:
    operation = store.start_operation(
        resource_id=resource_id,
        location_path=f"/subscriptions/{call.subscription}/providers/Microsoft.Web/locations/{location}/operationResults",
        api_version=call.api_version,
        delay=call.delay,
        polls_required=0,
        on_success=lambda: None,
        final_reply=lambda: Reply(200),
        failure=call.fail_with,
    )
    return store.accepted(operation)


# --- server farms (App Service plans) --------------------------------------------------------


def create_or_update_farm(store: ResourceStore, call: Call) -> Reply:
    body = call.body or {}
    store.require_group(call.subscription, call.params["group"], for_write=True)
    if not body.get("location"):
        raise location_required()
    resource_id = _resource_id(call, FARM_TYPE)
    if (body.get("sku") or {}).get("tier") == FLEX_TIER and not (body.get("properties") or {}).get("reserved"):
        raise _flex_error("Flex Consumption plans are Linux only: set properties.reserved to true.")
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
    return Reply(200, _with_site_count(store, document))


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


def create_or_update_site(store: ResourceStore, call: Call) -> Reply:
    body = call.body or {}
    name = call.params["name"]
    store.require_group(call.subscription, call.params["group"], for_write=True)
    if not body.get("location"):
        raise location_required()
    resource_id = _resource_id(call, SITE_TYPE)
    for other in store.find(SITE_TYPE):
        if other["name"].lower() == name.lower() and other["id"].lower() != resource_id.lower():
            raise ArmError(409, "Conflict", f"Website with given name {name} already exists.", web_format=True)
    given = copy.deepcopy(body.get("properties") or {})
    farm_id = given.get("serverFarmId")
    if farm_id and store.get(farm_id) is None:
        farm_name = farm_id.rstrip("/").rsplit("/", 1)[-1]
        raise ArmError(404, "NotFound", f"Cannot find ServerFarm with name {farm_name}.", web_format=True)
    existing = store.get(resource_id)
    farm = store.get(farm_id or (existing or {}).get("properties", {}).get("serverFarmId") or "")
    if _is_flex(farm):
        _check_flex_site(store, resource_id, farm, body, existing)  # type: ignore[arg-type]
    if call.fail_with is not None:
        return _accept_and_fail(store, call, resource_id, body["location"])

    site_config = given.get("siteConfig") or {}
    settings = site_config.get("appSettings")
    if settings is not None or existing is None:
        store.put(
            resource_id + _SETTINGS_SUFFIX,
            _settings_document(resource_id, body["location"], {s["name"]: s.get("value") for s in settings or []}),
        )
    if site_config:
        site_config["appSettings"] = None  # never echoed: settings are read through config/appsettings/list
    host = f"{name}.azurewebsites.net".lower()
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
            "enabledHostNames": [host, f"{name}.scm.azurewebsites.net".lower()],
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
    return Reply(200, document)


def get_site(store: ResourceStore, call: Call) -> Reply:
    return Reply(200, _require_site(store, call))


def update_application_settings(store: ResourceStore, call: Call) -> Reply:
    site = _require_site(store, call)
    given = (call.body or {}).get("properties") or {}
    if _is_flex(store.get(site["properties"].get("serverFarmId") or "")):
        _refuse_deprecated_settings(given)
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
    _require_site(store, call)
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
    return identity


# --- Flex Consumption -------------------------------------------------------------------------------


def _is_flex(farm: dict | None) -> bool:
    return bool(farm and (farm.get("sku") or {}).get("tier") == FLEX_TIER)


def _flex_error(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message, web_format=True)


def _check_flex_site(store: ResourceStore, resource_id: str, farm: dict, body: dict, existing: dict | None) -> None:
    """What the Web provider refuses for a site on an FC1 plan."""
    for site in store.find(SITE_TYPE):
        same_farm = (site["properties"].get("serverFarmId") or "").lower() == farm["id"].lower()
        if same_farm and site["id"].lower() != resource_id.lower():
            raise _flex_error(
                f"The Flex Consumption plan {farm['name']} already hosts the app {site['name']}; "
                "a Flex Consumption plan can have only one app."
            )
    given = body.get("properties") or {}
    site_config = given.get("siteConfig") or {}
    if site_config.get("linuxFxVersion"):
        raise _flex_error("Site.SiteConfig.LinuxFxVersion is invalid for Flex Consumption sites.")
    _refuse_deprecated_settings({s["name"]: s.get("value") for s in site_config.get("appSettings") or []})

    config = given.get("functionAppConfig")
    if config is None:
        if existing is not None:
            return  # left out of an update: kept as it was
        raise _flex_error("Flex Consumption sites require properties.functionAppConfig (deployment and runtime).")
    storage = (config.get("deployment") or {}).get("storage") or {}
    if storage.get("type") != "blobContainer" or not str(storage.get("value") or "").startswith(
        ("https://", "http://")
    ):
        raise _flex_error("functionAppConfig.deployment.storage must be a blobContainer whose value is its URL.")
    authentication = (storage.get("authentication") or {}).get("type")
    if authentication not in ("SystemAssignedIdentity", "UserAssignedIdentity", "StorageAccountConnectionString"):
        raise _flex_error(f"functionAppConfig.deployment.storage.authentication.type '{authentication}' is not valid.")
    identity = (body.get("identity") or (existing or {}).get("identity") or {}).get("type") or "None"
    if authentication == "SystemAssignedIdentity" and "SystemAssigned" not in identity:
        raise _flex_error("SystemAssignedIdentity deployment storage needs the site's system-assigned identity.")
    runtime = config.get("runtime") or {}
    versions = FLEX_RUNTIMES.get(str(runtime.get("name")))
    if versions is None or runtime.get("version") not in versions:
        raise _flex_error(f"Runtime {runtime.get('name')} {runtime.get('version')} is not supported on Flex.")
    scale = config.get("scaleAndConcurrency") or {}
    if scale.get("instanceMemoryMB", 2048) not in FLEX_INSTANCE_MEMORY_MB:
        raise _flex_error(f"instanceMemoryMB must be one of {sorted(FLEX_INSTANCE_MEMORY_MB)}.")
    if not 1 <= int(scale.get("maximumInstanceCount", 100)) <= 1000:
        raise _flex_error("maximumInstanceCount must be between 1 and 1000.")


def _refuse_deprecated_settings(settings: dict) -> None:
    for name in sorted(settings):
        if name.upper() in FLEX_DEPRECATED_SETTINGS:
            raise _flex_error(
                f"The following app setting (Site.SiteConfig.AppSettings.{name}) for Flex Consumption sites is "
                "invalid. Please remove or rename it before retrying."
            )
