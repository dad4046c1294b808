"""Capacity slots: an owner's quota, a subscription-region's room, as membership sets.

A slot is one entity (``~slot|<key>``) listing the cloud_ids that hold it. Taking a place adds the
twin's cloud_id if there is room; giving it back removes it. Both are ETag-guarded (so concurrent
creates never overfill a slot) and idempotent (a retried step, or a create racing another create
of the same twin, can never count a twin twice). A place taken by a write that then died is found
and given back by the reconcile (controlplane.registry.repair). The largest set is a subscription's 980 resource
groups: about 30 KB, under Table Storage's 64 KiB per property.

A slot this registry lately found full (``lately_full``) is remembered for ``FULL_HINT_SECONDS``,
so placement tries it last: without that, once a pool's default region has filled, every create
paid a take and a give-back of its subscription's set for each full place it tried before finding
room — at 10,010 twins over 11 subscriptions, an estimated 80 of a create's 119 Table requests
(docs/fleet-scale.md). The hint
only orders; a place is still taken (or refused) by its own entity, never skipped on the hint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from controlplane.domain.errors import SlotFull
from controlplane.registry.etag_retry import RETRY, Retry, with_etag_retries

PREFIX = "~slot|"
# Long enough that a filling pool's full places are tried again only every minute per instance, short
# enough that a place emptied by deletes is back in its turn soon after (it is never out of reach:
# hinted places are still tried, last).
FULL_HINT_SECONDS = 60.0


class Capacity:
    def __init__(self, table: TableClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._clock = clock
        self._full_seen: dict[str, float] = {}  # slot key -> when this registry last found it full

    def lately_full(self, key: str) -> bool:
        """Whether this registry found ``key`` full within ``FULL_HINT_SECONDS`` (and saw no room since)."""
        seen = self._full_seen.get(key)
        return seen is not None and self._clock() - seen < FULL_HINT_SECONDS

    def members(self, key: str) -> set[str]:
        try:
            entity = self._table.get_entity(PREFIX + key, "")
        except ResourceNotFoundError:
            return set()
        return _members(entity)

    def usage(self, key: str) -> int:
        return len(self.members(key))

    def take(self, key: str, cloud_id: str, limit: int) -> bool:
        """Give ``cloud_id`` a place in ``key``; True if it was newly added. SlotFull when there is no room."""

        def attempt() -> bool | Retry:
            try:
                entity = self._table.get_entity(PREFIX + key, "")
            except ResourceNotFoundError:
                if limit < 1:
                    raise SlotFull(key, limit, 0) from None
                try:
                    self._table.create_entity(
                        {"PartitionKey": PREFIX + key, "RowKey": "", "members": json.dumps([cloud_id])}
                    )
                    return True
                except ResourceExistsError:
                    return RETRY  # another writer made it first
            members = _members(entity)
            if cloud_id in members:
                return False
            if len(members) >= limit:
                raise SlotFull(key, limit, len(members))
            return self._write(entity, members | {cloud_id})

        try:
            added: bool = with_etag_retries(attempt, gave_up=f"capacity {key} kept changing; try again")
        except SlotFull:
            self._full_seen[key] = self._clock()
            raise
        self._full_seen.pop(key, None)
        return added

    def add(self, key: str, cloud_id: str) -> None:
        """Put back the place of a twin whose row holds it (repair): no limit, as the twin already counts."""
        self.take(key, cloud_id, limit=1 << 30)

    def give_back(self, key: str, cloud_id: str) -> None:
        def attempt() -> None | Retry:
            try:
                entity = self._table.get_entity(PREFIX + key, "")
            except ResourceNotFoundError:
                return None
            members = _members(entity)
            if cloud_id not in members:
                return None
            return None if self._write(entity, members - {cloud_id}) is True else RETRY

        with_etag_retries(attempt, gave_up=f"capacity {key} kept changing; the next reconcile will give the place back")
        self._full_seen.pop(key, None)  # a place came free

    def all_keys(self) -> list[str]:
        query = f"PartitionKey ge '{PREFIX}' and PartitionKey lt '~slot}}'"
        return [
            e["PartitionKey"].removeprefix(PREFIX) for e in self._table.query_entities(query, select=["PartitionKey"])
        ]

    def _write(self, entity: Any, members: set[str]) -> bool | Retry:
        """Write ``members`` under the ETag read with ``entity``: True, or RETRY when another writer won."""
        try:
            self._table.update_entity(
                {"PartitionKey": entity["PartitionKey"], "RowKey": "", "members": json.dumps(sorted(members))},
                mode=UpdateMode.REPLACE, etag=entity.metadata["etag"], match_condition=MatchConditions.IfNotModified,
            )  # fmt: skip
        except ResourceModifiedError:
            return RETRY
        return True


def _members(entity: Any) -> set[str]:
    return set(json.loads(entity.get("members") or "[]"))
