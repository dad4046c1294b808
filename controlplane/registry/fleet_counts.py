"""Fleet counts kept as counters, so /health costs the same at 10 twins or 100,000.

Sixteen shard entities in one small partition (``~counts``); each status change adds -1/+1 to one
shard picked at random (ETag-guarded, retried on a lost race), so concurrent writers rarely
collide. Health sums the shards: one query, sixteen entities. Counts are exact as long as every
row write is followed by its count change; a process that dies between the two leaves a count off
by one until the reconcile corrects it (controlplane.registry.repair).
"""

from __future__ import annotations

import random
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from controlplane.domain.lifecycle import Status
from controlplane.domain.twin import Twin
from controlplane.registry.etag_retry import RETRY, Retry, with_etag_retries

PARTITION = "~counts"
SHARDS = 16
_LIVE_TARGET = "live_"  # property prefix: live (not deleted) twins per runtime target
# Property prefix: live twins per deploy_ref, hex-encoded (a property name must be an identifier).
# A ref's property is dropped from a shard when its count there reaches 0, and the hourly reconcile
# rewrites the shards with only the counters live rows need, so a shard holds the versions live
# since the last reconcile, not every version ever shipped (an entity has at most 252 properties).
_LIVE_REF = "ref_"
TOP_DEPLOY_REFS = 10  # /health names this many versions; the rest are summed as "other"


def count_keys(row: Twin | None) -> list[str]:
    """The counters a row adds one to: its status, and its runtime target and deploy_ref while not deleted."""
    if row is None:
        return []
    keys = [row.status.value]
    if row.status != Status.DELETED:
        keys.append(_LIVE_TARGET + row.runtime_target.replace("-", "_"))
        keys.append(_LIVE_REF + row.deploy_ref.encode().hex())
    return keys


def _by_deploy_ref(sums: dict[str, int]) -> dict[str, int]:
    live = sorted(
        ((bytes.fromhex(key.removeprefix(_LIVE_REF)).decode(), value) for key, value in sums.items()
         if key.startswith(_LIVE_REF) and value),
        key=lambda item: (-item[1], item[0]),
    )  # fmt: skip
    top = dict(live[:TOP_DEPLOY_REFS])
    other = sum(value for _, value in live[TOP_DEPLOY_REFS:])
    return {**top, "other": other} if other else top


class FleetCounts:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def ensure_shards(self) -> None:
        for shard in range(SHARDS):
            try:
                self._table.create_entity({"PartitionKey": PARTITION, "RowKey": f"{shard:02d}"})
            except ResourceExistsError:
                pass

    def apply(self, before: Twin | None, after: Twin | None) -> None:
        """Move the counts from ``before``'s keys to ``after``'s."""
        deltas: dict[str, int] = {}
        for key in count_keys(before):
            deltas[key] = deltas.get(key, 0) - 1
        for key in count_keys(after):
            deltas[key] = deltas.get(key, 0) + 1
        self.add(deltas)

    def add(self, deltas: dict[str, int]) -> None:
        """Add ``deltas`` (key -> change) to one shard, ETag-guarded: commutes with every other writer's."""
        deltas = {k: v for k, v in deltas.items() if v}
        if not deltas:
            return

        def attempt() -> None | Retry:
            row_key = f"{random.randrange(SHARDS):02d}"
            try:
                shard = self._table.get_entity(PARTITION, row_key)
            except ResourceNotFoundError:  # shards are made on first use, not at deploy time
                try:
                    self._table.create_entity({"PartitionKey": PARTITION, "RowKey": row_key})
                except ResourceExistsError:
                    pass
                return RETRY
            counters = {key: value for key, value in shard.items() if isinstance(value, int)}
            for key, delta in deltas.items():
                counters[key] = counters.get(key, 0) + delta
            kept = {key: value for key, value in counters.items() if value or not key.startswith(_LIVE_REF)}
            try:
                self._table.update_entity(
                    {"PartitionKey": PARTITION, "RowKey": shard["RowKey"], **kept},
                    mode=UpdateMode.REPLACE, etag=shard.metadata["etag"], match_condition=MatchConditions.IfNotModified,
                )  # fmt: skip
            except ResourceModifiedError:
                return RETRY
            return None

        with_etag_retries(attempt, gave_up="fleet counts kept changing; the next reconcile will correct them")

    def raw_totals(self) -> dict[str, int]:
        """Every counter summed over the shards, by its key (count_keys' names)."""
        sums: dict[str, int] = {}
        for shard in self._table.query_entities(f"PartitionKey eq '{PARTITION}'"):
            for key, value in shard.items():
                if isinstance(value, int):
                    sums[key] = sums.get(key, 0) + value
        return sums

    def totals(self) -> dict[str, Any]:
        sums = self.raw_totals()
        counts: dict[str, Any] = {s.value: sums.get(s.value, 0) for s in Status}
        counts["total"] = sum(counts[s.value] for s in Status)
        counts["by_runtime_target"] = {
            key.removeprefix(_LIVE_TARGET).replace("_", "-"): value
            for key, value in sorted(sums.items())
            if key.startswith(_LIVE_TARGET) and value
        }
        counts["by_deploy_ref"] = _by_deploy_ref(sums)
        return counts

    def compact(self) -> int:
        """Drop the deploy_ref counters whose shards sum to zero (a version no twin runs any more).

        Their +1 and -1 may sit in different shards, where no single write would ever see zero. All
        shards are one partition, so one entity-group transaction rewrites them at once, each under
        the ETag it was read with: a concurrent count change fails it whole, and the next run tries
        again. Totals are unchanged (the dropped values sum to zero). Returns the counters dropped."""
        shards = list(self._table.query_entities(f"PartitionKey eq '{PARTITION}'"))
        sums: dict[str, int] = {}
        for shard in shards:
            for key, value in shard.items():
                if isinstance(value, int) and key.startswith(_LIVE_REF):
                    sums[key] = sums.get(key, 0) + value
        dead = {key for key, total in sums.items() if total == 0}
        if not dead:
            return 0
        operations: list[Any] = []
        for shard in shards:
            if dead & set(shard):
                kept = {k: v for k, v in shard.items() if isinstance(v, int) and k not in dead}
                entity = {"PartitionKey": PARTITION, "RowKey": shard["RowKey"], **kept}
                options = {"mode": UpdateMode.REPLACE, "etag": shard.metadata["etag"],
                           "match_condition": MatchConditions.IfNotModified}  # fmt: skip
                operations.append(("update", entity, options))
        try:
            self._table.submit_transaction(operations)
        except TableTransactionError:
            return 0  # a live count change won: nothing was written, the next run compacts
        return len(dead)
