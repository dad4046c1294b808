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

ROW_KEY = "brainstem"
META_SUFFIX = "meta"  # <registry table>meta holds the count shards and capacity slots
OWNER_PARTITION = "owner|"
FLEET_START, FLEET_END = "twin-", "twin."  # every cloud_id sorts between these
MAX_PAGE_SIZE = 1000
_FIELDS = (
    "cloud_id", "name", "owner", "region", "runtime_target", "deploy_ref", "status", "job_id",
    "created_at", "last_seen", "url", "subscription_id", "previous_deploy_ref", "target_deploy_ref",
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
    if row.error is not None:
        entity["error"] = json.dumps(row.error)
    if row.slots:
        entity["slots"] = json.dumps(list(row.slots))
    return entity


def from_entity(entity: dict[str, Any]) -> Brainstem:
    values: dict[str, Any] = {name: entity.get(name) for name in _FIELDS}
    values["status"] = Status(values["status"])
    error = entity.get("error")
    slots = tuple(json.loads(entity["slots"])) if entity.get("slots") else ()
    return Brainstem(**values, error=json.loads(error) if error else None, slots=slots)


def encode_token(scope: str, after: str) -> str:
    raw = json.dumps({"scope": scope, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, scope: str) -> str:
    """The cloud_id a page starts after. The scope must be the listing's, so a token cannot cross owners."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, token_scope = data["after"], data["scope"]
        if not isinstance(after, str) or not isinstance(token_scope, str):
            raise TypeError
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput(
            "next", "the continuation token is not one this API issued; start again without it"
        ) from None
    if token_scope != scope:
        raise InvalidInput("next", "the continuation token belongs to a different listing; start again without it")
    return after
