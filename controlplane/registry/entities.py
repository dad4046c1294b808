"""How a brainstem row is stored: its two entities (the row and its owner copy) and page tokens.

The key design is described in ``controlplane.registry`` (the package docstring). Continuation
tokens name the listing they belong to, so one owner's token can never page through another's rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from controlplane.domain.brainstem import Brainstem
from controlplane.domain.errors import InvalidInput
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import is_cloud_id

ROW_KEY = "brainstem"
META_SUFFIX = "meta"  # <registry table>meta holds the count shards and capacity slots
OWNER_PARTITION = "owner|"
FLEET_START, FLEET_END = "twin-", "twin."  # every cloud_id sorts between these
MAX_PAGE_SIZE = 1000
_JSON_FIELDS = ("error", "app_settings", "target_app_settings", "hold", "drift")
_FIELDS = (
    "cloud_id", "name", "owner", "region", "runtime_target", "deploy_ref", "status", "job_id",
    "created_at", "last_seen", "url", "subscription_id", "callback_url", "previous_deploy_ref", "target_deploy_ref",
    "delete_at",
)  # fmt: skip


def odata_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def row_entity(row: Brainstem) -> dict[str, Any]:
    return _to_entity(row, row.cloud_id, ROW_KEY)


def owner_entity(row: Brainstem) -> dict[str, Any]:
    return _to_entity(row, OWNER_PARTITION + row.owner, row.cloud_id)


def _to_entity(row: Brainstem, partition_key: str, row_key: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    for name in _FIELDS:
        value = getattr(row, name)
        if value is not None:
            entity[name] = value.value if isinstance(value, Status) else value
    for name in _JSON_FIELDS:  # small JSON objects, never a secret
        if getattr(row, name) is not None:
            entity[name] = json.dumps(getattr(row, name))
    if row.slots:
        entity["slots"] = json.dumps(list(row.slots))
    return entity


def from_entity(entity: dict[str, Any]) -> Brainstem:
    values: dict[str, Any] = {name: entity.get(name) for name in _FIELDS}
    values["status"] = Status(values["status"])
    for name in _JSON_FIELDS:
        values[name] = json.loads(entity[name]) if entity.get(name) else None
    slots = tuple(json.loads(entity["slots"])) if entity.get("slots") else ()
    return Brainstem(**values, slots=slots)


def encode_token(scope: str, after: str) -> str:
    raw = json.dumps({"scope": scope, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, scope: str) -> str:
    """The cloud_id a page starts after. The scope must be the listing's, so a token cannot cross owners."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, token_scope = data["after"], data["scope"]
        # Only a cloud_id can be a page's last row: anything else (a lone surrogate, an OData
        # fragment) was not issued here, and must not reach a query.
        if not isinstance(after, str) or not isinstance(token_scope, str) or not is_cloud_id(after):
            raise TypeError
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise InvalidInput(
            "next", "the continuation token is not one this API issued; start again without it"
        ) from None
    if token_scope != scope:
        raise InvalidInput("next", "the continuation token belongs to a different listing; start again without it")
    return after
