"""Global names and where Flex Consumption is offered: checkNameAvailability and geoRegions.

Site names (``{name}.azurewebsites.net``) and storage account names are global across every Azure
customer. The stand-in holds the names of its own resources *and* names "held elsewhere" (another
customer's, ``ArmStandIn.hold_name``), so both the checks and the creates can say "taken".

* Microsoft.Web ``POST /subscriptions/{id}/providers/Microsoft.Web/checknameavailability``
  ({name, type}) -> ``{nameAvailable, reason: Invalid|AlreadyExists, message}`` (Microsoft.Web
  ResourceProvider.json, CheckNameAvailability; ResourceNameAvailability). Site names are 2-60
  letters, digits and hyphens, not starting or ending with a hyphen (Learn: "Naming rules and
  restrictions for Azure resources", Microsoft.Web/sites).
* Microsoft.Storage ``POST .../providers/Microsoft.Storage/checkNameAvailability`` -> ``{nameAvailable,
  reason: AccountNameInvalid|AlreadyExists, message}`` (storage.json, StorageAccounts_CheckNameAvailability).
* ``GET .../providers/Microsoft.Web/geoRegions?sku=FlexConsumption`` lists the regions that offer Flex
  (what ``az functionapp list-flexconsumption-locations`` reads; SkuName FlexConsumption in the spec).
  Not every region does (Learn: flex-consumption-plan, Considerations, "Regions"). The default list
  is the one Microsoft's current Flex templates allow (FLEX_REGIONS); ``flex_regions`` overrides.
"""

from __future__ import annotations

import re

from .messages import ArmError, Call, Reply
from .store import ResourceStore

SITE_TYPE = "Microsoft.Web/sites"
STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
_SITE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,58}[A-Za-z0-9])?$")
_STORAGE_NAME = re.compile(r"^[a-z0-9]{3,24}$")

# The 32 regions Microsoft's Flex Consumption quickstart allows (Azure-Samples/functions-quickstart-python-http-azd
# infra/main.bicep, @allowed of `location`, commit 7ed4638).
FLEX_REGIONS: dict[str, str] = {
    "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast",
    "brazilsouth": "Brazil South",
    "canadacentral": "Canada Central",
    "centralindia": "Central India",
    "centralus": "Central US",
    "eastasia": "East Asia",
    "eastus": "East US",
    "eastus2": "East US 2",
    "eastus2euap": "East US 2 EUAP",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "italynorth": "Italy North",
    "japaneast": "Japan East",
    "koreacentral": "Korea Central",
    "northcentralus": "North Central US",
    "northeurope": "North Europe",
    "norwayeast": "Norway East",
    "southafricanorth": "South Africa North",
    "southcentralus": "South Central US",
    "southeastasia": "Southeast Asia",
    "southindia": "South India",
    "spaincentral": "Spain Central",
    "swedencentral": "Sweden Central",
    "uaenorth": "UAE North",
    "uksouth": "UK South",
    "ukwest": "UK West",
    "westcentralus": "West Central US",
    "westeurope": "West Europe",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
}

# Regions without Flex, so that "not offered here" can be answered (absent from that list).
ALL_REGIONS: dict[str, str] = {
    **FLEX_REGIONS,
    "westindia": "West India",
    "japanwest": "Japan West",
    "australiacentral": "Australia Central",
    "koreasouth": "Korea South",
}


def site_name_taken(store: ResourceStore, name: str, *, except_id: str | None = None) -> bool:
    return _taken(store, name, store.held_site_names, SITE_TYPE, except_id)


def storage_name_taken(store: ResourceStore, name: str, *, except_id: str | None = None) -> bool:
    return _taken(store, name, store.held_storage_names, STORAGE_TYPE, except_id)


def _taken(store: ResourceStore, name: str, held: set[str], resource_type: str, except_id: str | None) -> bool:
    """Held by another Azure customer, or by another resource of this type here (names are global)."""
    lowered = name.lower()
    return lowered in held or any(
        doc["name"].lower() == lowered and doc["id"].lower() != (except_id or "").lower()
        for doc in store.find(resource_type)
    )


def check_site_name(store: ResourceStore, call: Call) -> Reply:
    body = call.body or {}
    name, kind = str(body.get("name") or ""), str(body.get("type") or "")
    if not name or kind not in ("Site", SITE_TYPE, "Slot", "Microsoft.Web/sites/slots"):
        raise ArmError(400, "BadRequest", "The request must name a resource and a resource type.", web_format=True)
    if not _SITE_NAME.match(name):
        return _unavailable("Invalid", f"The name '{name}' is not valid.")
    if site_name_taken(store, name):
        return _unavailable("AlreadyExists", f"Hostname '{name}' already exists. Please select a different name.")
    return Reply(200, {"nameAvailable": True})


def check_storage_name(store: ResourceStore, call: Call) -> Reply:
    body = call.body or {}
    name = str(body.get("name") or "")
    if body.get("type") != STORAGE_TYPE:
        raise ArmError(400, "InvalidResourceType", "The resource type must be Microsoft.Storage/storageAccounts.")
    if not _STORAGE_NAME.match(name):
        return _unavailable(
            "AccountNameInvalid",
            f"{name} is not a valid storage account name. Storage account name must be between 3 "
            "and 24 characters in length and use numbers and lower-case letters only.",
        )
    if storage_name_taken(store, name):
        return _unavailable("AlreadyExists", f"The storage account named {name} is already taken.")
    return Reply(200, {"nameAvailable": True})


def _unavailable(reason: str, message: str) -> Reply:
    """checkNameAvailability's answer for a name that cannot be had (both providers answer 200 with it)."""
    return Reply(200, {"nameAvailable": False, "reason": reason, "message": message})


def geo_regions(store: ResourceStore, call: Call) -> Reply:
    regions = store.flex_regions if call.query.get("sku", "").lower() == "flexconsumption" else store.all_regions
    return Reply(
        200,
        {
            "value": [
                {
                    "id": f"/subscriptions/{call.subscription}/providers/Microsoft.Web/geoRegions/{display}",
                    "name": display,
                    "type": "Microsoft.Web/geoRegions",
                    "properties": {"displayName": display, "orgDomain": "PUBLIC"},
                }
                for display in (regions[key] for key in sorted(regions))
            ]
        },
    )
