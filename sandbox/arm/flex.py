"""What the Web provider refuses for Flex Consumption (plan sku FC1), in App Service's own error shape.

* Plans: Linux only (``reserved: true``), and only in regions that offer Flex (names.FLEX_REGIONS;
  Learn: flex-consumption-plan, "Regions": not all regions are supported).
* One app per plan (Learn: flex-consumption-plan, Considerations, "Apps per Plan").
* The site must carry ``functionAppConfig`` (deployment blob container, runtime, scale) and must not
  carry ``linuxFxVersion`` or the app settings Flex refuses. The list is kept here on its own, from
  the same Microsoft source the product cites (azure-cli appservice/custom.py ``_migrate_app_settings``,
  Learn "Flex Consumption plan deprecations"), not imported from product code: the stand-in plays
  ARM, so a setting the product forgot to strip is refused here instead of slipping through a shared list.
* Runtimes: Python 3.10-3.13 (Learn: flex-consumption-plan "Supported language stack versions";
  supported-languages). Instance memory 512, 2048 or 4096 MB (Learn: "Instance memory").
  ``maximumInstanceCount`` 1-1000 (Learn: event-driven-scaling, "Limit scale-out", Flex pivot, 2026-08:
  "Currently the lowest maximum instance count value is 1"; the floor of 40 was the preview's).
  Python 3.13: Learn's Flex language table stops at 3.12, while Microsoft's stack list (``az functionapp list-flexconsumption-runtimes``, Microsoft.Web functionAppStacks) offers
  3.13; the stack list is what ARM validates against, so 3.13 is accepted.
* Trigger sync needs the app's code: a Flex app with no deployed package has no functions for the host
  to report, and App Service answers the sync with 400 "Encountered an error (BadRequest) from host runtime."
"""

from __future__ import annotations

from .messages import ArmError
from .store import ResourceStore

FLEX_TIER = "FlexConsumption"
FLEX_REFUSED_SETTINGS = frozenset(
    {
        "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED", "WEBSITE_MOUNT_ENABLED", "ENABLE_ORYX_BUILD",
        "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "FUNCTIONS_MAX_HTTP_CONCURRENCY", "FUNCTIONS_WORKER_PROCESS_COUNT",
        "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED", "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTOVERVNET", "WEBSITE_CONTENTSHARE",
        "WEBSITE_DNS_SERVER", "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT", "WEBSITE_NODE_DEFAULT_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_SKIP_CONTENTSHARE_VALIDATION", "WEBSITE_VNET_ROUTE_ALL",
    }
)  # fmt: skip
FLEX_RUNTIMES = {"python": {"3.10", "3.11", "3.12", "3.13"}}
FLEX_INSTANCE_MEMORY_MB = {512, 2048, 4096}
FLEX_MAXIMUM_INSTANCE_COUNT = (1, 1000)
DEPLOYMENT_SUFFIX = "/deployments/active"  # where the scm stand-in records the package One Deploy put in place


def is_flex(farm: dict | None) -> bool:
    return bool(farm and (farm.get("sku") or {}).get("tier") == FLEX_TIER)


def flex_error(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message, web_format=True)


def check_flex_plan(store: ResourceStore, body: dict) -> None:
    if (body.get("sku") or {}).get("tier") != FLEX_TIER:
        return
    if not (body.get("properties") or {}).get("reserved"):
        raise flex_error("Flex Consumption plans are Linux only: set properties.reserved to true.")
    location = str(body.get("location") or "").lower().replace(" ", "")
    if location not in store.flex_regions:
        raise flex_error(
            f"The Flex Consumption SKU is not available in location '{body.get('location')}'. Run "
            "'az functionapp list-flexconsumption-locations' for the regions that offer it."
        )


def check_flex_site(store: ResourceStore, resource_id: str, farm: dict, body: dict, existing: dict | None) -> None:
    for site in store.find("Microsoft.Web/sites"):
        same_farm = (site["properties"].get("serverFarmId") or "").lower() == farm["id"].lower()
        if same_farm and site["id"].lower() != resource_id.lower():
            raise flex_error(
                f"The Flex Consumption plan {farm['name']} already hosts the app {site['name']}; "
                "a Flex Consumption plan can have only one app."
            )
    given = body.get("properties") or {}
    site_config = given.get("siteConfig") or {}
    if site_config.get("linuxFxVersion"):
        raise flex_error("Site.SiteConfig.LinuxFxVersion is invalid for Flex Consumption sites.")
    refuse_settings({s["name"]: s.get("value") for s in site_config.get("appSettings") or []})

    config = given.get("functionAppConfig")
    if config is None:
        if existing is not None:
            return  # left out of an update: kept as it was
        raise flex_error("Flex Consumption sites require properties.functionAppConfig (deployment and runtime).")
    storage = (config.get("deployment") or {}).get("storage") or {}
    if storage.get("type") != "blobContainer" or not str(storage.get("value") or "").startswith(
        ("https://", "http://")
    ):
        raise flex_error("functionAppConfig.deployment.storage must be a blobContainer whose value is its URL.")
    authentication = (storage.get("authentication") or {}).get("type")
    if authentication not in ("SystemAssignedIdentity", "UserAssignedIdentity", "StorageAccountConnectionString"):
        raise flex_error(f"functionAppConfig.deployment.storage.authentication.type '{authentication}' is not valid.")
    identity = (body.get("identity") or (existing or {}).get("identity") or {}).get("type") or "None"
    if authentication == "SystemAssignedIdentity" and "SystemAssigned" not in identity:
        raise flex_error("SystemAssignedIdentity deployment storage needs the site's system-assigned identity.")
    runtime = config.get("runtime") or {}
    versions = FLEX_RUNTIMES.get(str(runtime.get("name")))
    if versions is None or runtime.get("version") not in versions:
        raise flex_error(f"Runtime {runtime.get('name')} {runtime.get('version')} is not supported on Flex.")
    scale = config.get("scaleAndConcurrency") or {}
    if scale.get("instanceMemoryMB", 2048) not in FLEX_INSTANCE_MEMORY_MB:
        raise flex_error(f"instanceMemoryMB must be one of {sorted(FLEX_INSTANCE_MEMORY_MB)}.")
    low, high = FLEX_MAXIMUM_INSTANCE_COUNT
    if not low <= int(scale.get("maximumInstanceCount", 100)) <= high:
        raise flex_error(f"maximumInstanceCount must be between {low} and {high}.")


def refuse_settings(settings: dict) -> None:
    for name in sorted(settings):
        if name.upper() in FLEX_REFUSED_SETTINGS:
            raise flex_error(
                f"The following app setting (Site.SiteConfig.AppSettings.{name}) for Flex Consumption sites is "
                "invalid. Please remove or rename it before retrying."
            )


def require_deployed_package(store: ResourceStore, site: dict) -> None:
    """A trigger sync on a Flex app that has no package yet fails in the host runtime."""
    if store.get(site["id"] + DEPLOYMENT_SUFFIX) is None:
        raise ArmError(400, "BadRequest", "Encountered an error (BadRequest) from host runtime.", web_format=True)
