"""Which api-versions each resource provider answers; anything else is refused, as ARM refuses it.

ARM routes a request to a provider by resource type *and* api-version. An api-version the type does
not publish gets 400 ``NoRegisteredProviderFound`` ("No registered resource provider found for
location '...' and API version '...' for type '...'. The supported api-versions are '...'"), and
Microsoft.Resources' own types answer 400 ``InvalidApiVersionParameter`` ("The api-version '...' is
invalid. The supported versions are '...'") — the texts users quote in Azure/azure-cli#28496 and
Azure/azure-rest-api-specs#18857. A stand-in that took any version would let a product bug (a
hand-built URL with a made-up version) pass here and fail in Azure.

The versions listed are the ones the pinned SDKs were generated from (each a ``stable/<version>``
folder of the provider in Azure/azure-rest-api-specs: e.g. Microsoft.Web AppService/stable/2025-05-01)
and the versions the product's other clients are known to send. Operation-status URLs carry the version
of the request that started them, so they are checked against their provider the same way.
"""

from __future__ import annotations

from .messages import ArmError

RESOURCES = "Microsoft.Resources"
STORAGE = "Microsoft.Storage"
WEB = "Microsoft.Web"
AUTHORIZATION = "Microsoft.Authorization"

KNOWN: dict[str, frozenset[str]] = {
    # azure-mgmt-resource 26 (resources/stable/2025-04-01) and the versions before it still served.
    RESOURCES: frozenset({"2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-11-01", "2025-04-01"}),
    # azure-mgmt-storage 25.3 (Microsoft.Storage/stable/2026-09-01) and earlier stable versions.
    STORAGE: frozenset({"2023-01-01", "2023-05-01", "2024-01-01", "2025-01-01", "2026-09-01"}),
    # azure-mgmt-web 11 (Microsoft.Web AppService/stable/2025-05-01) and earlier stable versions.
    WEB: frozenset({"2023-12-01", "2024-04-01", "2024-11-01", "2025-03-01", "2025-05-01"}),
    # azure-mgmt-authorization: role assignments at 2022-04-01 (authorization/stable/2022-04-01).
    # Management locks: azure-mgmt-resource-locks 1.0.0 sends 2020-05-01 (locks/stable/2020-05-01).
    AUTHORIZATION: frozenset({"2020-04-01-preview", "2020-05-01", "2022-04-01"}),
}

_PREFIX_PROVIDER = {
    "resource_groups": RESOURCES,
    "storage_accounts": STORAGE,
    "blob_containers": STORAGE,
    "storage_names": STORAGE,
    "server_farms": WEB,
    "sites": WEB,
    "web_names": WEB,
    "geo_regions": WEB,
    "role_assignments": AUTHORIZATION,
    "locks": AUTHORIZATION,
}


def provider_of(route: str, path: str) -> str | None:
    """The provider a route (or, for operation URLs, the path) belongs to; None when unknown."""
    prefix = route.split(".", 1)[0]
    if prefix in _PREFIX_PROVIDER:
        return _PREFIX_PROVIDER[prefix]
    lowered = path.lower()
    for provider in (STORAGE, WEB, AUTHORIZATION):
        if f"/providers/{provider.lower()}/" in lowered:
            return provider
    return RESOURCES if "/operationresults/" in lowered or "/resourcegroups/" in lowered else None


def require_known(route: str, path: str, api_version: str, *, region: str = "eastus2") -> None:
    provider = provider_of(route, path)
    if provider is None or api_version in KNOWN[provider]:
        return
    supported = ", ".join(sorted(KNOWN[provider]))
    if provider == RESOURCES:
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{api_version}' is invalid. The supported versions are '{supported}'.",
        )
    raise ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{region}' and API version '{api_version}' for "
        f"type '{provider}'. The supported api-versions are '{supported}'.",
    )
