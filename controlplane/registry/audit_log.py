"""The audit table: append-only records of accepted changes, kept after the twin they name is deleted.

Keys. Each record is written under ``target|<cloud_id or rollout id>`` (a twin's history is one
partition query), under ``principal|<who>`` (a caller's history, and the bulk-delete guard's count)
and, when the record has an owner, under ``owner|<owner>`` (an owner's history, never a scan of
others' records). The RowKey is the request id, which the HTTP
layer mints time-ordered (``controlplane.domain.audit`` / ``http_api.change_log``), so a partition
reads oldest first and a second record of the same request is refused by Table Storage itself
(``create_entity`` answers 409 EntityAlreadyExists): one record per request, however often the code
that records is run. Nothing here updates or deletes a record.

An operator's query with no cloud_id and no principal (the whole fleet) reads the ``target|``
partitions in key order with a filter: O(records), paged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, UpdateMode

from controlplane.domain.audit import Action, AuditRecord, TargetKind
from controlplane.domain.errors import InvalidInput
from controlplane.registry.entities import odata_str

logger = logging.getLogger(__name__)
TARGET, OWNER, PRINCIPAL = "target|", "owner|", "principal|"
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditRecord]
    next: str | None


def _entity(record: AuditRecord, partition: str) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": partition,
        "RowKey": record.request_id,
        "occurred_at": record.occurred_at,
        "action": record.action.value,
        "target_kind": record.target_kind.value,
        "target": record.target,
        "principal": record.principal,
        "detail": json.dumps(record.detail),
    }
    for name in ("owner", "job_id"):
        if getattr(record, name) is not None:
            entity[name] = getattr(record, name)
    return entity


def _record(entity: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        request_id=entity["RowKey"],
        occurred_at=entity["occurred_at"],
        action=Action(entity["action"]),
        target_kind=TargetKind(entity["target_kind"]),
        target=entity["target"],
        principal=entity["principal"],
        owner=entity.get("owner"),
        job_id=entity.get("job_id"),
        detail=json.loads(entity.get("detail") or "{}"),
    )


class AuditLog:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def create_table(self) -> None:
        try:
            self._table.create_table()
        except ResourceExistsError:
            pass

    def append(self, record: AuditRecord) -> bool:
        """Write the record (idempotent by request id); False when this request was already recorded."""
        try:
            self._table.create_entity(_entity(record, TARGET + record.target))
            fresh = True
        except ResourceExistsError:
            fresh = False
        # Upserts: a retry after a crash between the writes completes the copies.
        if record.owner is not None:
            self._table.upsert_entity(_entity(record, OWNER + record.owner), mode=UpdateMode.REPLACE)
        self._table.upsert_entity(_entity(record, PRINCIPAL + record.principal), mode=UpdateMode.REPLACE)
        return fresh

    def count_recent(self, principal: str, action: Action, *, since: str, at_most: int) -> int:
        """How many ``action`` records ``principal`` made since ``since``, counting no further than ``at_most``."""
        query = (
            f"PartitionKey eq {odata_str(PRINCIPAL + principal)} and RowKey ge {odata_str(_row_key_floor(since))}"
            f" and action eq {odata_str(action.value)}"
        )
        pages = self._table.query_entities(query, results_per_page=min(at_most, MAX_PAGE_SIZE), select=["RowKey"])
        count = 0
        for _ in pages:
            count += 1
            if count >= at_most:
                break
        return count

    def page(
        self, *, owner: str | None, target: str | None, principal: str | None, since: str | None,
        limit: int, next: str | None,
    ) -> AuditPage:  # fmt: skip
        """One page of records. ``owner``: only this owner's twins' records (an owner caller's own)."""
        filters = []
        if target is not None:
            filters.append(f"PartitionKey eq {odata_str(TARGET + target)}")
            if owner is not None:
                filters.append(f"owner eq {odata_str(owner)}")
        elif owner is not None:
            filters.append(f"PartitionKey eq {odata_str(OWNER + owner)}")
        elif principal is not None:
            filters.append(f"PartitionKey eq {odata_str(PRINCIPAL + principal)}")
        else:
            filters.append(f"PartitionKey ge {odata_str(TARGET)} and PartitionKey lt {odata_str('target}')}")
        if principal is not None:
            filters.append(f"principal eq {odata_str(principal)}")
        if since is not None:
            filters.append(f"occurred_at ge {odata_str(since)}")
        query = " and ".join(filters)
        scope = hashlib.sha256(query.encode()).hexdigest()[:16]  # a token pages only the listing it came from
        pages = self._table.query_entities(query, results_per_page=min(limit, MAX_PAGE_SIZE)).by_page(
            continuation_token=_decode(next, scope) if next else None  # type: ignore[arg-type]  # the SDK takes its dict
        )
        items = [_record(entity) for entity in next_page(pages)]
        token = pages.continuation_token  # type: ignore[attr-defined]
        return AuditPage(items, _encode(token, scope) if token else None)


def _row_key_floor(since: str) -> str:
    """The least request id minted at ``since`` (ids begin with the compact time: http_api.change_log)."""
    return since.replace("-", "").replace(":", "").replace(".", "")


def next_page(pages: Any) -> list[dict[str, Any]]:
    for page in pages:
        return list(page)
    return []


def _encode(token: dict[str, str | None], scope: str) -> str:
    raw = json.dumps({"scope": scope, "pk": token.get("PartitionKey"), "rk": token.get("RowKey")}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, scope: str) -> dict[str, str | None]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        keys = {"PartitionKey": data["pk"], "RowKey": data["rk"]}
        if data["scope"] != scope or not all(
            v is None or (isinstance(v, str) and v.isprintable()) for v in keys.values()
        ):
            raise TypeError
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError, AttributeError):
        raise InvalidInput(
            "next", "the continuation token is not one this listing issued; start again without it"
        ) from None
    return keys
