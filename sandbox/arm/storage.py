"""Microsoft.Storage storage accounts: the asynchronous create, reads, account keys, blob containers.

The shapes follow the real provider because the SDK is strict about them: the create answers 202
with Location and Retry-After (``begin_create`` accepts 200 or 202, not 201), and the Location
answers 202 until the account is provisioned, then 200 with the account itself — that body is what
``.result()`` returns, as azure-core does no final GET for Location polling. A repeated PUT joins the
running operation or, once done, answers 200 with the (updated) account. Account names are global
across Azure, so a name held by any other group or subscription is a 409 StorageAccountAlreadyTaken.
Blob containers are a synchronous create-or-update (201 new, 200 existing) under their account.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets

from . import names
from .messages import ArmError, Call, Reply, location_required, resource_not_found
from .store import ResourceStore, provider_id, utc_now_iso

TYPE = "Microsoft.Storage/storageAccounts"
_KEYS_SUFFIX = "/keys"
_VALID_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_ENDPOINT_SERVICES = ("blob", "queue", "table", "file", "dfs", "web")


def account_id(call: Call) -> str:
    return provider_id(call.subscription, call.params["group"], TYPE, call.params["name"])


def create(store: ResourceStore, call: Call, *, polls_required: int) -> Reply:
    body = call.body or {}
    name = call.params["name"]
    if not _VALID_NAME.match(name):
        raise ArmError(
            400,
            "AccountNameInvalid",
            f"{name} is not a valid storage account name. Storage account name must be between 3 and "
            "24 characters in length and use numbers and lower-case letters only.",
        )
    store.require_group(call.subscription, call.params["group"], for_write=True)
    location = body.get("location")
    if not location:
        raise location_required()
    resource_id = account_id(call)
    if names.storage_name_taken(store, name, except_id=resource_id):
        raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")

    location_path = (
        f"/subscriptions/{call.subscription}/providers/Microsoft.Storage/locations/{location}/asyncoperations"
    )
    if call.fail_with is not None:
        # The request is accepted and the provider gives up later; nothing is left behind.
        operation = store.start_operation(
            resource_id=resource_id,
            location_path=location_path,
            api_version=call.api_version,
            delay=call.delay,
            polls_required=polls_required,
            on_success=lambda: None,
            final_reply=lambda: Reply(200),
            failure=call.fail_with,
        )
        return store.accepted(operation)

    underway = store.in_flight(resource_id)
    if underway is not None:
        return store.accepted(underway)

    existing = store.get(resource_id)
    document = _account_document(resource_id, name, body, existing)
    store.put(resource_id, document)
    if existing is not None:
        # Same or changed properties on a provisioned account: ARM updates in place and answers 200.
        return Reply(200, document)

    store.put(resource_id + _KEYS_SUFFIX, _new_keys(resource_id))
    document["properties"]["provisioningState"] = "Creating"

    def on_success() -> None:
        current = store.get(resource_id)
        if current is not None:
            current["properties"]["provisioningState"] = "Succeeded"

    def final_reply() -> Reply:
        current = store.get(resource_id)
        if current is None:
            raise resource_not_found(TYPE, name, call.params["group"])
        return Reply(200, current)

    operation = store.start_operation(
        resource_id=resource_id,
        location_path=location_path,
        api_version=call.api_version,
        delay=call.delay,
        polls_required=polls_required,
        on_success=on_success,
        final_reply=final_reply,
    )
    return store.accepted(operation)


def get_properties(store: ResourceStore, call: Call) -> Reply:
    return Reply(200, _require_account(store, call))


def list_keys(store: ResourceStore, call: Call) -> Reply:
    _require_account(store, call)
    keys = store.get(account_id(call) + _KEYS_SUFFIX) or {"keys": []}
    return Reply(200, {"keys": copy.deepcopy(keys["keys"])})


def _require_account(store: ResourceStore, call: Call) -> dict:
    store.require_group(call.subscription, call.params["group"], for_write=False)
    document = store.get(account_id(call))
    if document is None:
        raise resource_not_found(TYPE, call.params["name"], call.params["group"])
    return document


def _account_document(resource_id: str, name: str, body: dict, existing: dict | None) -> dict:
    location = existing["location"] if existing else body["location"]
    sku_name = (body.get("sku") or {}).get("name", "Standard_LRS")
    properties = dict(existing["properties"]) if existing else {}
    properties.update(body.get("properties") or {})
    # Defaults the provider fills in for new accounts at current api-versions.
    properties.setdefault("supportsHttpsTrafficOnly", True)
    properties.setdefault("minimumTlsVersion", "TLS1_2")
    properties.setdefault("allowBlobPublicAccess", False)
    properties.update(
        {
            "provisioningState": "Succeeded",
            "creationTime": existing["properties"]["creationTime"] if existing else utc_now_iso(),
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "primaryEndpoints": {
                service: f"https://{name}.{service}.core.windows.net/" for service in _ENDPOINT_SERVICES
            },
        }
    )
    document = {
        "id": existing["id"] if existing else resource_id,
        "name": existing["name"] if existing else name,
        "type": TYPE,
        "location": location,
        "kind": body.get("kind", "StorageV2"),
        "sku": {"name": sku_name, "tier": "Premium" if sku_name.startswith("Premium") else "Standard"},
        "tags": body.get("tags") or {},
        "properties": properties,
    }
    identity = body.get("identity") or (existing or {}).get("identity")
    if identity:
        document["identity"] = identity
    return document


def _new_keys(resource_id: str) -> dict:
    """Two fresh keys, stable for the account's lifetime, shaped like the real 64-byte keys."""
    created = utc_now_iso()
    return {
        "id": resource_id + _KEYS_SUFFIX,
        "type": TYPE + "/keys",
        "keys": [
            {
                "keyName": key_name,
                "value": base64.b64encode(secrets.token_bytes(64)).decode("ascii"),
                "permissions": "FULL",
                "creationTime": created,
            }
            for key_name in ("key1", "key2")
        ],
    }


# --- blob containers (Microsoft.Storage/storageAccounts/blobServices/containers) ---------------------

CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"
# 3-63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
_VALID_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")


def container_id(call: Call) -> str:
    return f"{account_id(call)}/blobServices/default/containers/{call.params['container']}"


def create_container(store: ResourceStore, call: Call) -> Reply:
    """PUT is create-or-update: 201 with a new container, 200 with one that is already there."""
    account = _require_account(store, call)
    name = call.params["container"]
    if not _VALID_CONTAINER.match(name):
        raise ArmError(
            400,
            "ContainerOperationFailure",
            f"The specified resource name '{name}' is invalid: use 3-63 lowercase letters, digits and single hyphens.",
        )
    public_access = ((call.body or {}).get("properties") or {}).get("publicAccess") or "None"
    if public_access != "None" and not account["properties"].get("allowBlobPublicAccess", False):
        raise ArmError(409, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")
    resource_id = container_id(call)
    existing = store.get(resource_id)
    now = utc_now_iso()
    properties = dict((existing or {}).get("properties") or {})
    properties.update(
        {
            "publicAccess": public_access,
            "leaseStatus": "Unlocked",
            "leaseState": "Available",
            "hasImmutabilityPolicy": False,
            "hasLegalHold": False,
            "deleted": False,
            "remainingRetentionDays": 0,
            "lastModifiedTime": now,
        }
    )
    document = {
        "id": existing["id"] if existing else resource_id,
        "name": existing["name"] if existing else name,
        "type": CONTAINER_TYPE,
        "etag": f'"0x{secrets.token_hex(8).upper()}"',
        "properties": properties,
    }
    store.put(resource_id, document)
    return Reply(200 if existing else 201, document)


def get_container(store: ResourceStore, call: Call) -> Reply:
    _require_account(store, call)
    document = store.get(container_id(call))
    if document is None:
        raise ArmError(404, "ContainerNotFound", "The specified container does not exist.")
    return Reply(200, document)
