"""Storage accounts: each twin's own AzureWebJobsStorage, and (Flex) the container its code is deployed from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controlplane.arm.clients import ArmClients
from controlplane.arm.resource_groups import operation_url
from controlplane.domain.naming import TwinNames

# A storage account create usually finishes in well under a minute; an activity must never hold
# near the Consumption timeout, so a slower one ends this attempt and the (idempotent) PUT is
# simply sent again by the next durable retry.
CREATE_WAIT_SECONDS = 240


def storage_account_body(region: str, tags: dict[str, str], *, shared_key_access: bool = True) -> dict[str, Any]:
    """The account ``provision-twin-lite.sh`` creates; ``shared_key_access=False`` for identity-only twins.

    A Flex Consumption twin reaches its storage with its managed identity only, so its account refuses
    keys altogether (``allowSharedKeyAccess: false``, Microsoft.Storage storage.json
    StorageAccountPropertiesCreateParameters; Learn: "Prevent Shared Key authorization for an Azure
    Storage account"). A Linux Consumption twin's AzureWebJobsStorage and package SAS need its key.
    """
    properties: dict[str, Any] = {
        "supportsHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
    }
    if not shared_key_access:
        properties["allowSharedKeyAccess"] = False
    return {
        "location": region,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "tags": tags,
        "properties": properties,
    }


def begin_storage_account(
    clients: ArmClients, names: TwinNames, *, region: str, tags: dict[str, str], shared_key_access: bool = True
) -> str | None:
    """Send the account's PUT and return the Location to poll (None: ARM answered 200, it exists).

    Nothing waits here: the orchestration polls the URL on durable timers (``poll_operation``), so a
    20-60 s create holds an activity slot for one request, not for the create. A repeated PUT of the
    same body is idempotent (it joins the running create or answers 200).
    """
    body = storage_account_body(region, tags, shared_key_access=shared_key_access)
    poller = clients.storage.storage_accounts.begin_create(  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
        names.resource_group, names.storage_account, body, polling=False
    )
    return operation_url(poller)


def account_key(clients: ArmClients, names: TwinNames) -> str:
    """The account's first key. A secret: never return it from an activity, never log it."""
    keys = clients.storage.storage_accounts.list_keys(names.resource_group, names.storage_account)
    return str(keys["keys"][0]["value"])


def storage_connection_string(clients: ArmClients, names: TwinNames) -> str:
    """A connection string with the account's first key. A secret: never return it from an activity."""
    key = account_key(clients, names)
    return (
        f"DefaultEndpointsProtocol=https;AccountName={names.storage_account};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )


@dataclass(frozen=True)
class StorageEndpoints:
    """An account's id and service endpoints as ARM reports them (each ends with '/')."""

    account_id: str
    blob: str
    queue: str
    table: str


def storage_endpoints(clients: ArmClients, names: TwinNames) -> StorageEndpoints:
    """Read the account's endpoints from ARM rather than assume ``core.windows.net`` (sovereign clouds differ)."""
    account = clients.storage.storage_accounts.get_properties(names.resource_group, names.storage_account)
    endpoints = account.properties.primary_endpoints if account.properties else None
    if endpoints is None or not (endpoints.blob and endpoints.queue and endpoints.table):
        raise TimeoutError(f"storage account {names.storage_account} reports no service endpoints yet")
    return StorageEndpoints(
        account_id=str(account.id),
        blob=_with_slash(endpoints.blob),
        queue=_with_slash(endpoints.queue),
        table=_with_slash(endpoints.table),
    )


def ensure_blob_container(clients: ArmClients, names: TwinNames, container: str) -> str:
    """Create the private container, or leave it as it is (ARM's PUT: 201 created, 200 already there)."""
    created = clients.storage.blob_containers.create(  # type: ignore[call-overload]  # a plain JSON body: the exact wire shape
        names.resource_group, names.storage_account, container, {"properties": {"publicAccess": "None"}}
    )
    return str(created.id)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
