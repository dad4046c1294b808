"""Storage accounts: each twin's own AzureWebJobsStorage."""

from __future__ import annotations

from controlplane.arm_clients import ArmClients
from controlplane.naming import TwinNames

# A storage account create usually finishes in well under a minute; an activity must never hold
# near the Consumption timeout, so a slower one ends this attempt and the (idempotent) PUT is
# simply sent again by the next durable retry.
CREATE_WAIT_SECONDS = 240


def storage_account_body(region: str, tags: dict[str, str]) -> dict:
    return {
        "location": region,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "tags": tags,
        "properties": {
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
            "allowBlobPublicAccess": False,
        },
    }


def ensure_storage_account(clients: ArmClients, names: TwinNames, *, region: str, tags: dict[str, str]) -> str:
    poller = clients.storage.storage_accounts.begin_create(
        names.resource_group, names.storage_account, storage_account_body(region, tags)
    )
    poller.wait(CREATE_WAIT_SECONDS)
    if not poller.done():
        raise TimeoutError(f"storage account {names.storage_account} still creating after {CREATE_WAIT_SECONDS}s")
    return str(poller.result().id)


def storage_connection_string(clients: ArmClients, names: TwinNames) -> str:
    """A connection string with the account's first key. A secret: never return it from an activity."""
    keys = clients.storage.storage_accounts.list_keys(names.resource_group, names.storage_account)
    key = keys["keys"][0]["value"]
    return (
        f"DefaultEndpointsProtocol=https;AccountName={names.storage_account};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )
