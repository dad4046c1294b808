"""How a brainstem row is stored: its two entities (the row and its owner copy) and page tokens.

The key design is described in ``controlplane.registry`` (the package docstring). Continuation
tokens name the listing they belong to, so one owner's token can never page through another's rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from controlplane.domain.errors import InvalidInput
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import is_cloud_id
from controlplane.domain.twin import Twin
from controlplane.domain.twin_fields import Stored, names_where

ROW_KEY = "brainstem"
META_SUFFIX = "meta"  # <registry table>meta holds the count shards and capacity slots
OWNER_PARTITION = "owner|"
FLEET_START, FLEET_END = "twin-", "twin."  # every cloud_id sorts between these
MAX_PAGE_SIZE = 1000
# Which of the row's properties are JSON text and which are stored as themselves: from its fields' roles.
_AS_IS = names_where(Twin, stored=Stored.AS_IS)
_AS_JSON = names_where(Twin, stored=Stored.AS_JSON)


def odata_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def row_entity(row: Twin) -> dict[str, Any]:
    return _to_entity(row, row.cloud_id, ROW_KEY)


def owner_entity(row: Twin) -> dict[str, Any]:
    return _to_entity(row, OWNER_PARTITION + row.owner, row.cloud_id)


def _to_entity(row: Twin, partition_key: str, row_key: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": partition_key, "RowKey": row_key}
    for name in _AS_IS:
        value = getattr(row, name)
        if value is not None:
            entity[name] = value.value if isinstance(value, Status) else value
    for name in _AS_JSON:  # small JSON values, never a secret; an absent or empty slot list is not stored
        value = getattr(row, name)
        if value is not None and value != ():
            entity[name] = json.dumps(list(value) if isinstance(value, tuple) else value)
    return entity


def from_entity(entity: dict[str, Any]) -> Twin:
    values: dict[str, Any] = {name: entity.get(name) for name in _AS_IS}
    values["status"] = Status(values["status"])
    for name in _AS_JSON:
        values[name] = json.loads(entity[name]) if entity.get(name) else None
    values["slots"] = tuple(values["slots"] or ())
    return Twin(**values)


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
