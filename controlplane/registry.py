"""The brainstem registry: one row per brainstem in an Azure Table.

Key design — every lookup a request makes is a point read or one bounded range:

    PartitionKey            RowKey        entity
    twin-<name>-<hash6>     brainstem     the row: point read by cloud_id; the whole fleet is the
                                          PartitionKey range 'twin-'..'twin.' (paged in cloud_id order)
    owner|<owner>           <cloud_id>    a full copy of the row: an owner's listing is one partition

and, in a small table of its own (``<table>meta``) that health reads without touching the fleet's:

    ~counts                 00..15        fleet-count shards (controlplane.fleet_counts): health is O(1)
    ~slot|<key>             ''            a capacity slot (controlplane.capacity): quota, placement

One partition per twin spreads the fleet over Table Storage's partition servers (each serves about
2,000 entities/s), so reads scale with the fleet instead of queueing on one hot partition; an
owner's partition stays small. The cost is that a row, its owner copy, its count and its capacity
are separate writes, not one transaction. They are ordered so that nothing is ever over-granted:
capacity is taken (idempotently, ETag-guarded) before the row is written and given back after it;
the row itself is written under its ETag (a lost race is retried from a fresh read and re-validated
against the lifecycle, never silently overwritten); the owner copy and the counts follow. A process
that dies between those writes leaves at worst a stale copy, a count off by one or a place held by
no one, and ``reconcile()`` (a timer runs it hourly) puts them right.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from controlplane.backoff import back_off
from controlplane.brainstem import Brainstem, Page, utc_now
from controlplane.capacity import Capacity
from controlplane.errors import BrainstemExists, BrainstemNotFound, ConcurrentUpdate, InvalidInput
from controlplane.fleet_counts import FleetCounts, count_keys
from controlplane.lifecycle import LIVE_STATUSES, Status, check_transition

logger = logging.getLogger(__name__)

ROW_KEY = "brainstem"
META_SUFFIX = "meta"  # <registry table>meta holds the count shards and capacity slots
OWNER_PARTITION = "owner|"
FLEET_START, FLEET_END = "twin-", "twin."  # every cloud_id sorts between these
MAX_PAGE_SIZE = 1000
_FIELDS = (
    "cloud_id", "name", "owner", "region", "runtime_target", "deploy_ref", "status", "job_id",
    "created_at", "last_seen", "url", "subscription_id",
)  # fmt: skip
_WRITE_ATTEMPTS = 40


def _odata_str(value: str) -> str:
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


def _from_entity(entity: dict[str, Any]) -> Brainstem:
    values = {name: entity.get(name) for name in _FIELDS}
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


class BrainstemRegistry:
    """Create, read, list and move brainstem rows through their lifecycle."""

    def __init__(self, table: TableClient, meta: TableClient) -> None:
        self._table = table
        self._meta = meta
        # Counts and capacity live in a small table of their own: health reads it without ever
        # touching the table that grows with the fleet.
        self.fleet_counts = FleetCounts(meta)
        self.capacity = Capacity(meta)

    @classmethod
    def from_service(cls, service: TableServiceClient, table_name: str) -> BrainstemRegistry:
        return cls(service.get_table_client(table_name), service.get_table_client(table_name + META_SUFFIX))

    @classmethod
    def from_connection_string(cls, connection_string: str, table_name: str) -> BrainstemRegistry:
        return cls.from_service(TableServiceClient.from_connection_string(connection_string), table_name)

    def create_table(self) -> None:
        """Create the tables and the count shards if missing (idempotent; run at start-up)."""
        for table in (self._table, self._meta):
            try:
                table.create_table()
            except ResourceExistsError:
                pass
        self.fleet_counts.ensure_shards()

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
        """One page of rows ordered by cloud_id, optionally one owner's, one status's, one target's."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput("limit", f"limit must be between 1 and {MAX_PAGE_SIZE}")
        scope = owner or "*"
        after = decode_token(next, scope) if next else None
        if owner:
            clauses = [f"PartitionKey eq {_odata_str(OWNER_PARTITION + owner)}"]
            if after:
                clauses.append(f"RowKey gt {_odata_str(after)}")
        else:
            clauses = [
                f"PartitionKey gt {_odata_str(after)}" if after else f"PartitionKey ge '{FLEET_START}'",
                f"PartitionKey lt '{FLEET_END}'",
                f"RowKey eq '{ROW_KEY}'",
            ]
        if status is not None:
            clauses.append(f"status eq '{Status(status).value}'")
        if runtime_target is not None:
            clauses.append(f"runtime_target eq {_odata_str(runtime_target)}")
        # Ask for one more than the page so `next` is given only when another row really exists.
        entities = self._take(" and ".join(clauses), limit + 1)
        items = [_from_entity(e) for e in entities[:limit]]
        more = len(entities) > limit
        return Page(items=items, next=encode_token(scope, items[-1].cloud_id) if more else None)

    def counts(self) -> dict[str, Any]:
        """Fleet counts by status (and total), and live twins by runtime target: 16 entities, any fleet size."""
        return self.fleet_counts.totals()

    def slot_usage(self, key: str) -> int:
        return self.capacity.usage(key)

    # -- writes ------------------------------------------------------------------------------

    def create(self, row: Brainstem, *, slots: Mapping[str, int] | None = None) -> Brainstem:
        """Take ``slots`` (key -> limit) for the twin, then insert its row; SlotFull or BrainstemExists.

        Nothing is left behind when either refuses: places taken for a row that could not be
        written are given back.
        """
        row = row.with_changes(slots=tuple(sorted(slots or {})))
        taken = self._take_slots(row.cloud_id, row.slots, slots or {})
        try:
            self._table.create_entity(row_entity(row))
        except ResourceExistsError:
            existing = self.get(row.cloud_id)
            self._give_back(row.cloud_id, [k for k in taken if k not in existing.slots])
            raise BrainstemExists(f"{row.cloud_id} already exists", cloud_id=row.cloud_id) from None
        except BaseException:
            self._give_back(row.cloud_id, taken)
            raise
        self._after_write(None, row)
        return row

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
        Deleted twins give their capacity back; ``release_slots`` does so for another status
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

        The twin then holds exactly ``slots`` (taking the new ones, giving back the others).
        """

        def change(current: Brainstem) -> Brainstem:
            check_transition(cloud_id, current.status, Status.PROVISIONING)
            return current.with_changes(
                status=Status.PROVISIONING,
                url=None,
                error=None,
                last_seen=utc_now(),
                slots=tuple(sorted(slots or {})),
                **fields,
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
            taken = self._take_slots(cloud_id, [k for k in updated.slots if k not in current.slots], limits or {})
            try:
                self._table.update_entity(
                    row_entity(updated), mode=UpdateMode.REPLACE, etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )  # fmt: skip
            except ResourceModifiedError:
                self._give_back(cloud_id, taken)
                logger.info("lost a write race on %s; retrying from a fresh read", cloud_id)
                back_off(attempt)
                continue
            except BaseException:
                self._give_back(cloud_id, taken)
                raise
            self._after_write(current, updated)
            return updated
        raise ConcurrentUpdate(
            f"{cloud_id} kept changing under {_WRITE_ATTEMPTS} attempts; try again", cloud_id=cloud_id
        )

    def reconcile(self) -> dict[str, int]:
        """Recount the fleet and rebuild owner copies and capacity from the rows (a full scan: a timer's job).

        Repairs what a process that died between writes can leave behind. Returns what it fixed.
        """
        counted: dict[str, int] = {}
        holders: dict[str, set[str]] = {}
        copies = 0
        for row in iter_all(self):
            for key in count_keys(row):
                counted[key] = counted.get(key, 0) + 1
            if row.status in LIVE_STATUSES:
                for key in row.slots:
                    holders.setdefault(key, set()).add(row.cloud_id)
            self._table.upsert_entity(owner_entity(row), mode=UpdateMode.REPLACE)
            copies += 1
        fixed_slots = 0
        for key in set(self.capacity.all_keys()) | set(holders):
            if self.capacity.members(key) != holders.get(key, set()):
                self.capacity.set_members(key, holders.get(key, set()))
                fixed_slots += 1
        self.fleet_counts.replace(counted)
        return {"rows": copies, "slots_fixed": fixed_slots}

    # -- internals ---------------------------------------------------------------------------

    def _get_entity(self, cloud_id: str) -> Any:
        try:
            return self._table.get_entity(cloud_id, ROW_KEY)
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

    def _take_slots(self, cloud_id: str, keys: Iterable[str], limits: Mapping[str, int]) -> list[str]:
        taken: list[str] = []
        try:
            for key in sorted(keys):
                if self.capacity.take(key, cloud_id, limits[key]):
                    taken.append(key)
        except BaseException:
            self._give_back(cloud_id, taken)
            raise
        return taken

    def _give_back(self, cloud_id: str, keys: Iterable[str]) -> None:
        for key in keys:
            self.capacity.give_back(key, cloud_id)

    def _after_write(self, before: Brainstem | None, after: Brainstem) -> None:
        """The writes that follow a row's: its owner copy, the counts, and places it no longer holds."""
        self._table.upsert_entity(owner_entity(after), mode=UpdateMode.REPLACE)
        if before is not None and before.owner != after.owner:
            self._table.delete_entity(OWNER_PARTITION + before.owner, before.cloud_id)
        self.fleet_counts.apply(before, after)
        if before is not None:
            self._give_back(after.cloud_id, [k for k in before.slots if k not in after.slots])


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
    return BrainstemRegistry.from_service(service, settings.registry_table)


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
