"""Before anything is created: are the twin's global names free, and does its region offer its plan?

Site names (``{name}.azurewebsites.net``) and storage account names are global across every Azure
customer, and a twin's names are deterministic (sha1 of its name), so someone else may already hold
``twin-kody-e89834``. Asking first is what ends such a create cleanly, before a resource group or
anything else exists; a 409 half-way through would leave pieces behind.

* ``POST /subscriptions/{id}/providers/Microsoft.Web/checknameavailability`` with
  ``{"name", "type": "Site"}`` answers ``{nameAvailable, reason: Invalid|AlreadyExists, message}``
  (azure-rest-api-specs, Microsoft.Web ResourceProvider.json, operationId CheckNameAvailability).
* ``POST /subscriptions/{id}/providers/Microsoft.Storage/checkNameAvailability`` with
  ``{"name", "type": "Microsoft.Storage/storageAccounts"}`` answers ``{nameAvailable, reason:
  AccountNameInvalid|AlreadyExists, message}`` (Microsoft.Storage storage.json,
  StorageAccounts_CheckNameAvailability).
* Flex Consumption is offered in some regions only (Learn: flex-consumption-how-to, "View currently
  supported regions"); ``az functionapp list-flexconsumption-locations`` reads them from
  ``GET /providers/Microsoft.Web/geoRegions?sku=FlexConsumption`` (SkuName FlexConsumption in the spec).

"Not available" also describes a twin's *own* names once a first attempt made them, so a taken name
counts as taken only when this subscription's resource group does not hold that very resource.
"""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import TwinNames
from controlplane.domain.runtime_targets import HostingKind, RuntimeTargetSpec
from controlplane.domain.step_errors import StepFailure

STORAGE_ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"
SITE_TYPE = "Site"


def check_before_create(clients: ArmClients, names: TwinNames, spec: RuntimeTargetSpec, region: str) -> None:
    """Raise a permanent StepFailure naming the problem; return when the twin can be created."""
    if spec.kind == HostingKind.FLEX_CONSUMPTION:
        _require_flex_region(clients, region)
    _require_storage_name(clients, names)
    _require_site_name(clients, names)


def _require_storage_name(clients: ArmClients, names: TwinNames) -> None:
    answer = clients.storage.storage_accounts.check_name_availability(  # type: ignore[call-overload]  # the wire shape
        {"name": names.storage_account, "type": STORAGE_ACCOUNT_TYPE}
    )
    if answer.name_available or _storage_account_is_ours(clients, names):
        return
    raise _unavailable(
        "StorageAccountNameUnavailable",
        f"storage account {names.storage_account}",
        _reason(answer.reason),
        str(answer.message or ""),
    )


def _require_site_name(clients: ArmClients, names: TwinNames) -> None:
    answer = clients.web.check_name_availability({"name": names.app_name, "type": SITE_TYPE})
    if answer.name_available or _site_is_ours(clients, names):
        return
    raise _unavailable(
        "SiteNameUnavailable", f"site {names.default_host_name}", _reason(answer.reason), str(answer.message or "")
    )


def _require_flex_region(clients: ArmClients, region: str) -> None:
    # GeoRegion names are display names ("East US 2"); the CLI compares them lower-cased without spaces.
    offered = {str(r.name).lower().replace(" ", "") for r in clients.web.list_geo_regions(sku="FlexConsumption")}
    if region.lower() not in offered:
        raise StepFailure(
            "FlexConsumptionNotOffered",
            f"Flex Consumption is not offered in {region}; choose one of: {', '.join(sorted(offered)) or 'none'}",
        )


def _storage_account_is_ours(clients: ArmClients, names: TwinNames) -> bool:
    try:
        clients.storage.storage_accounts.get_properties(names.resource_group, names.storage_account)
    except ResourceNotFoundError:  # the account, or the whole group, is not here
        return False
    return True


def _site_is_ours(clients: ArmClients, names: TwinNames) -> bool:
    try:
        clients.web.web_apps.get(names.resource_group, names.app_name)
    except ResourceNotFoundError:
        return False
    return True


def _reason(reason: object) -> str:
    """The wire value of the SDK's reason enum ("AlreadyExists"), whatever type the SDK gives it."""
    return str(getattr(reason, "value", reason) or "")


def _unavailable(code: str, what: str, reason: str, message: str) -> StepFailure:
    if reason == "AlreadyExists":
        detail = (
            f"the {what} is already held elsewhere in Azure (names are global across customers); "
            "this twin name cannot be provisioned, choose another"
        )
    else:
        detail = f"the {what} is not a valid name ({reason}: {message})"
    return StepFailure(code, detail, status=409 if reason == "AlreadyExists" else 400)
