"""The brainstem registry: one row per brainstem in one Azure Table.

Key design. The whole fleet lives in one partition (``PartitionKey="fleet"``) with typed RowKeys:

    b|<cloud_id>            the brainstem row            -> point read by cloud_id, list all by cloud_id
    o|<owner>|<cloud_id>    a full copy of the row       -> owner listing is one range query
    c|<NN>                  fleet-count shard NN         -> health sums 16 small entities, O(1)
                            (one counter per status, and live twins per runtime target)
    s|<key>                 a capacity slot counter      -> an owner's quota, a subscription-region's room

Capacity is reserved in the same transaction that creates or restarts the row: the slot counter's
ETag guards its check (used < limit), so concurrent creates can never overfill it; a twin gives
its slots back in the transaction that marks it deleted (or errored before it built anything).

One partition makes every change one entity-group transaction: the row (guarded by its ETag), its
owner copy and a count shard commit together or not at all, so counts are exact and the owner index
never drifts, with no repair job. The price is the per-partition target of ~2,000 entities/s; the
control plane's writes are paced by ARM's throttles (10 writes/s per subscription, a handful of
transitions per twin), far below it, and reads are point reads or bounded range scans.
Counts are spread over 16 shards, picked at random per write, so concurrent creates rarely race
for the same ETag; a lost race is retried from a fresh read (the transition is re-validated), and
reported as ConcurrentUpdate if it keeps losing — never silently overwritten.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from controlplane.brainstem import Brainstem, Page, utc_now
from controlplane.errors import BrainstemExists, BrainstemNotFound, ConcurrentUpdate, InvalidInput, SlotFull
from controlplane.lifecycle import Status, check_transition

logger = logging.getLogger(__name__)

PARTITION = "fleet"
COUNT_SHARDS = 16
MAX_PAGE_SIZE = 1000
_ROW, _OWNER, _COUNT, _SLOT = "b|", "o|", "c|", "s|"
_FIELDS = (
    "cloud_id", "name", "owner", "region", "runtime_target", "deploy_ref", "status", "job_id",
    "created_at", "last_seen", "url", "subscription_id",
)  # fmt: skip
_WRITE_ATTEMPTS = 40
_LIVE_TARGET = "live_"  # count shard property prefix: live (not deleted) twins per runtime target


def _row_key(cloud_id: str) -> str:
    return _ROW + cloud_id


def _owner_key(owner: str, cloud_id: str) -> str:
    return f"{_OWNER}{owner}|{cloud_id}"


def _range_end(prefix: str) -> str:
    # The smallest string greater than every string starting with `prefix`.
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _odata_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _to_entity(row: Brainstem, row_key: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": PARTITION, "RowKey": row_key}
    for name in _FIELDS:
        value = getattr(row, name)
        if value is not None:
            entity[name] = value.value if isinstance(value, Status) else value
    if row.error is not None:
        entity["error"] = json.dumps(row.error)
    if row.slots:
        entity["slots"] = json.dumps(list(row.slots))
    return entity


def _from_entity(entity: dict[str, Any]) -> Brainstem:
    values = {name: entity.get(name) for name in _FIELDS}
    values["status"] = Status(values["status"])
    error = entity.get("error")
    slots = tuple(json.loads(entity["slots"])) if entity.get("slots") else ()
    return Brainstem(**values, error=json.loads(error) if error else None, slots=slots)


def _lost_race(exc: TableTransactionError) -> bool:
    """Another writer changed an entity of the batch first (a count shard, a slot, the row)."""
    if exc.status_code == 412 or exc.error_code == "UpdateConditionNotSatisfied":
        return True
    # A slot counter's first use, made by two writers at once: the loser's "create" collides.
    return exc.error_code == "EntityAlreadyExists" and exc.index > 0


def _back_off(attempt: int) -> None:
    # Full jitter: writers that collided spread out instead of colliding again in lockstep.
    time.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))


def encode_token(row_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": row_key}).encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = data["after"]
        if not isinstance(after, str):
            raise TypeError
        return after
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidInput("next", "the continuation token is not one this API issued; start again without it") from None


class BrainstemRegistry:
    """Create, read, list and move brainstem rows through their lifecycle."""

    def __init__(self, table: TableClient) -> None:
        self._table = table

    @classmethod
    def from_connection_string(cls, connection_string: str, table_name: str) -> "BrainstemRegistry":
        service = TableServiceClient.from_connection_string(connection_string)
        return cls(service.get_table_client(table_name))

    def create_table(self) -> None:
        """Create the table and its count shards if missing (idempotent; run at start-up)."""
        try:
            self._table.create_table()
        except ResourceExistsError:
            pass
        for shard in range(COUNT_SHARDS):
            try:
                self._table.create_entity({"PartitionKey": PARTITION, "RowKey": f"{_COUNT}{shard:02d}"})
            except ResourceExistsError:
                pass

    # -- reads -------------------------------------------------------------------------------

    def get(self, cloud_id: str) -> Brainstem:
        return _from_entity(self._get_entity(cloud_id))

    def exists(self, cloud_id: str) -> bool:
        try:
            self._get_entity(cloud_id)
        except BrainstemNotFound:
            return False
        return True

    def list(
        self,
        *,
        owner: str | None = None,
        status: Status | None = None,
        runtime_target: str | None = None,
        limit: int = 100,
        next: str | None = None,
    ) -> Page:
        """One page of rows ordered by cloud_id, optionally one owner's and/or one status's.

        The token only moves the start within the scope the caller asked for, so a forged token
        cannot reach another owner's rows.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput("limit", f"limit must be between 1 and {MAX_PAGE_SIZE}")
        prefix = _owner_key(owner, "") if owner else _ROW
        start = decode_token(next) if next else prefix
        if not start.startswith(prefix):
            raise InvalidInput("next", "the continuation token belongs to a different listing; start again without it")
        clauses = [
            f"PartitionKey eq '{PARTITION}'",
            f"RowKey gt {_odata_str(start)}" if next else f"RowKey ge {_odata_str(start)}",
            f"RowKey lt {_odata_str(_range_end(prefix))}",
        ]
        if status is not None:
            clauses.append(f"status eq '{Status(status).value}'")
        if runtime_target is not None:
            clauses.append(f"runtime_target eq {_odata_str(runtime_target)}")
        # Ask for one more than the page so `next` is given only when another row really exists.
        entities = self._take(" and ".join(clauses), limit + 1)
        items = [_from_entity(e) for e in entities[:limit]]
        more = len(entities) > limit
        return Page(items=items, next=encode_token(entities[limit - 1]["RowKey"]) if more else None)

    def counts(self) -> dict[str, Any]:
        """Fleet counts by status (and total), and live twins by runtime target.

        Reads the 16 count shards, whatever the fleet's size.
        """
        totals: dict[str, int] = {}
        query = f"PartitionKey eq '{PARTITION}' and RowKey ge '{_COUNT}' and RowKey lt '{_range_end(_COUNT)}'"
        for shard in self._table.query_entities(query):
            for key, value in shard.items():
                if isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
        counts: dict[str, Any] = {s.value: totals.get(s.value, 0) for s in Status}
        counts["total"] = sum(counts[s.value] for s in Status)
        counts["by_runtime_target"] = {
            _target_of(key): value for key, value in sorted(totals.items()) if key.startswith(_LIVE_TARGET) and value
        }
        return counts

    def ping(self) -> None:
        """Raise if Table Storage cannot be reached (one cheap point read)."""
        try:
            self._table.get_entity(PARTITION, f"{_COUNT}00")
        except ResourceNotFoundError:
            pass

    # -- writes ------------------------------------------------------------------------------

    def create(self, row: Brainstem, *, slots: Mapping[str, int] | None = None) -> Brainstem:
        """Insert a new row (its owner copy, count and capacity ``slots``) in one transaction.

        ``slots`` maps a slot key to its limit; SlotFull if one has no room, BrainstemExists if the
        cloud_id is taken.
        """
        row = row.with_changes(slots=tuple(sorted(slots or {})))
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                self._commit(None, row, limits=slots or {})
            except TableTransactionError as exc:
                if exc.error_code == "EntityAlreadyExists" and exc.index == 0:  # the row itself
                    raise BrainstemExists(f"{row.cloud_id} already exists", cloud_id=row.cloud_id) from exc
                if _lost_race(exc):
                    _back_off(attempt)  # another write took the same count shard or slot first
                    continue
                raise
            return row
        raise ConcurrentUpdate(f"creating {row.cloud_id} kept losing write races; try again", cloud_id=row.cloud_id)

    def transition(
        self,
        cloud_id: str,
        target: Status,
        *,
        for_job: str | None = None,
        release_slots: bool = False,
        **changes: Any,
    ) -> Brainstem:
        """Move a row to ``target`` with ``changes``, under optimistic concurrency.

        ``for_job`` guards against stale jobs: when given, the row must belong to that job — a job
        that lost its twin to a newer job cannot write over it. Moving to the status the row
        already has, for the same job, is a no-op, so a retried activity converges.
        Deleted twins give their capacity slots back; ``release_slots`` does so for another status
        (an errored twin that never created anything).
        """
        if target == Status.DELETED or release_slots:
            changes["slots"] = ()

        def change(current: Brainstem) -> Brainstem | None:
            if for_job is not None and current.job_id != for_job:
                raise ConcurrentUpdate(
                    f"{cloud_id} now belongs to job {current.job_id}, not {for_job}",
                    cloud_id=cloud_id,
                    job_id=current.job_id,
                )
            if current.status == target and changes.get("job_id", current.job_id) == current.job_id:
                return None
            check_transition(cloud_id, current.status, target)
            return current.with_changes(status=target, last_seen=utc_now(), **changes)

        return self.update(cloud_id, change)

    def restart(self, cloud_id: str, *, slots: Mapping[str, int] | None = None, **fields: Any) -> Brainstem:
        """Begin a new provisioning of an errored or deleted twin (new job, possibly new owner/region).

        The twin then holds exactly ``slots`` (reserving the new ones, giving back the others).
        """

        def change(current: Brainstem) -> Brainstem:
            check_transition(cloud_id, current.status, Status.PROVISIONING)
            return current.with_changes(
                status=Status.PROVISIONING, url=None, error=None, last_seen=utc_now(), slots=tuple(sorted(slots or {})), **fields
            )

        return self.update(cloud_id, change, limits=slots or {})

    def touch(self, cloud_id: str) -> Brainstem:
        """Record that the twin was seen alive now."""
        return self.update(cloud_id, lambda current: current.with_changes(last_seen=utc_now()))

    def update(
        self, cloud_id: str, change: Callable[[Brainstem], Brainstem | None], *, limits: Mapping[str, int] | None = None
    ) -> Brainstem:
        """Apply ``change`` to the freshest row; retry from a new read when another writer won.

        ``limits`` gives the limit of every slot the change newly takes.
        """
        for attempt in range(_WRITE_ATTEMPTS):
            entity = self._get_entity(cloud_id)
            current = _from_entity(entity)
            updated = change(current)
            if updated is None:
                return current
            try:
                self._commit(current, updated, etag=entity.metadata["etag"], limits=limits or {})
            except TableTransactionError as exc:
                if _lost_race(exc):
                    logger.info("lost a write race on %s; retrying from a fresh read", cloud_id)
                    _back_off(attempt)
                    continue
                raise
            return updated
        raise ConcurrentUpdate(f"{cloud_id} kept changing under {_WRITE_ATTEMPTS} attempts; try again", cloud_id=cloud_id)

    # -- internals ---------------------------------------------------------------------------

    def _get_entity(self, cloud_id: str) -> Any:
        try:
            return self._table.get_entity(PARTITION, _row_key(cloud_id))
        except ResourceNotFoundError:
            raise BrainstemNotFound(f"no brainstem {cloud_id}", cloud_id=cloud_id) from None

    def _take(self, query: str, wanted: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self._table.query_entities(query, results_per_page=min(wanted, MAX_PAGE_SIZE)).by_page()
        for page in pages:
            found.extend(page)
            if len(found) >= wanted:
                break
        return found[:wanted]

    def slot_usage(self, key: str) -> int:
        try:
            return int(self._table.get_entity(PARTITION, _SLOT + key).get("used", 0))
        except ResourceNotFoundError:
            return 0

    def _slot_changes(self, before: Brainstem | None, after: Brainstem, limits: Mapping[str, int]) -> list[Any]:
        held = set(before.slots) if before else set()
        operations: list[Any] = []
        for key in sorted(set(after.slots) - held):
            operations.append(self._slot_change(key, +1, limits[key]))
        for key in sorted(held - set(after.slots)):
            operations.append(self._slot_change(key, -1, None))
        return operations

    def _slot_change(self, key: str, delta: int, limit: int | None) -> tuple[Any, ...]:
        try:
            slot = self._table.get_entity(PARTITION, _SLOT + key)
        except ResourceNotFoundError:
            slot = None
        used = int(slot.get("used", 0)) if slot is not None else 0
        if limit is not None and used + delta > limit:
            raise SlotFull(key, limit, used)
        entity = {"PartitionKey": PARTITION, "RowKey": _SLOT + key, "used": max(0, used + delta)}
        if slot is None:
            return ("create", entity)  # a concurrent first use fails the batch (EntityAlreadyExists): retried
        condition = {"mode": UpdateMode.REPLACE, "etag": slot.metadata["etag"], "match_condition": MatchConditions.IfNotModified}
        return ("update", entity, condition)

    def _commit(
        self, before: Brainstem | None, after: Brainstem, *, etag: str | None = None, limits: Mapping[str, int] | None = None
    ) -> None:
        operations: list[Any] = []
        row = _to_entity(after, _row_key(after.cloud_id))
        if before is None:
            operations.append(("create", row))
        else:
            condition = {"mode": UpdateMode.REPLACE, "etag": etag, "match_condition": MatchConditions.IfNotModified}
            operations.append(("update", row, condition))
            if before.owner != after.owner:
                operations.append(("delete", {"PartitionKey": PARTITION, "RowKey": _owner_key(before.owner, before.cloud_id)}))
        operations.append(("upsert", _to_entity(after, _owner_key(after.owner, after.cloud_id)), {"mode": UpdateMode.REPLACE}))
        count = self._count_change(before, after)
        if count is not None:
            operations.append(count)
        operations += self._slot_changes(before, after, limits or {})
        self._table.submit_transaction(operations)

    def _count_change(self, before: Brainstem | None, after: Brainstem) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        deltas: dict[str, int] = {}
        for key in _count_keys(before):
            deltas[key] = deltas.get(key, 0) - 1
        for key in _count_keys(after):
            deltas[key] = deltas.get(key, 0) + 1
        deltas = {k: v for k, v in deltas.items() if v}
        if not deltas:
            return None
        shard_key = f"{_COUNT}{random.randrange(COUNT_SHARDS):02d}"
        shard = self._table.get_entity(PARTITION, shard_key)
        changed = {key: int(shard.get(key, 0)) + delta for key, delta in deltas.items()}
        # The shard's ETag makes a concurrent bump of the same shard fail the whole transaction
        # (412), which update() retries with a fresh read and, usually, another shard.
        condition = {"mode": UpdateMode.MERGE, "etag": shard.metadata["etag"], "match_condition": MatchConditions.IfNotModified}
        return ("update", {"PartitionKey": PARTITION, "RowKey": shard_key, **changed}, condition)


def _count_keys(row: Brainstem | None) -> list[str]:
    """The counters a row adds one to: its status, and its runtime target while it is not deleted."""
    if row is None:
        return []
    keys = [row.status.value]
    if row.status != Status.DELETED:
        keys.append(_LIVE_TARGET + row.runtime_target.replace("-", "_"))
    return keys


def _target_of(key: str) -> str:
    return key.removeprefix(_LIVE_TARGET).replace("_", "-")


def iter_all(registry: BrainstemRegistry, **filters: Any) -> Iterable[Brainstem]:
    """Every row, page by page (for operators' tools and tests; never on a request path)."""
    token = None
    while True:
        page = registry.list(limit=MAX_PAGE_SIZE, next=token, **filters)
        yield from page.items
        if page.next is None:
            return
        token = page.next


def registry_from_settings(settings: Any) -> BrainstemRegistry:
    """The registry the settings describe: a connection string, or a table endpoint with managed identity."""
    if settings.table_endpoint:
        from azure.identity import DefaultAzureCredential

        service = TableServiceClient(endpoint=settings.table_endpoint, credential=DefaultAzureCredential())
    else:
        service = TableServiceClient.from_connection_string(settings.storage_connection)
    return BrainstemRegistry(service.get_table_client(settings.registry_table))


_default_registry: BrainstemRegistry | None = None


def default_registry() -> BrainstemRegistry:
    """The process-wide registry from app settings; its table is created on first use."""
    global _default_registry
    if _default_registry is None:
        from controlplane.settings import get_settings

        registry = registry_from_settings(get_settings())
        registry.create_table()
        _default_registry = registry
    return _default_registry


def reset_default_registry() -> None:
    global _default_registry
    _default_registry = None
