"""TwinRegistry: create, read, list and move brainstem rows through their lifecycle.

Every write is ordered so nothing is ever over-granted (see the package docstring): capacity is
taken before the row is written and given back after it; the row is written under its ETag.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from controlplane.domain.errors import ConcurrentUpdate, InvalidInput, TwinExists, TwinNotFound
from controlplane.domain.lifecycle import Status, check_transition
from controlplane.domain.twin import Page, Twin, utc_now
from controlplane.registry import repair
from controlplane.registry.arm_budget import BudgetStore
from controlplane.registry.audit_log import AuditLog
from controlplane.registry.capacity import Capacity
from controlplane.registry.entities import (
    FLEET_END,
    FLEET_START,
    MAX_PAGE_SIZE,
    META_SUFFIX,
    OWNER_PARTITION,
    ROW_KEY,
    decode_token,
    encode_token,
    from_entity,
    odata_str,
    owner_entity,
    row_entity,
)  # fmt: skip
from controlplane.registry.etag_retry import RETRY, Retry, with_etag_retries
from controlplane.registry.fleet_counts import FleetCounts
from controlplane.registry.fleet_reports import FleetReports
from controlplane.registry.rollouts import RolloutStore
from controlplane.registry.undelivered import UndeliveredEvents

ROLLOUTS_SUFFIX = "rollouts"  # <registry table>rollouts: rollout records and the twins each moved
AUDIT_SUFFIX = "audit"  # <registry table>audit: the append-only record of accepted changes

logger = logging.getLogger(__name__)


class TwinRegistry:
    """Create, read, list and move brainstem rows through their lifecycle."""

    def __init__(
        self, table: TableClient, meta: TableClient, rollouts: TableClient | None = None,
        audit: TableClient | None = None,
    ) -> None:  # fmt: skip
        self._table = table
        self._meta = meta
        self.rollouts = RolloutStore(rollouts or meta)
        # Who changed what (controlplane.registry.audit_log): its own table, outliving every row.
        self.audit = AuditLog(audit or meta)
        # Counts and capacity live in a small table of their own: health reads it without ever
        # touching the table that grows with the fleet.
        self.fleet_counts = FleetCounts(meta)
        self.capacity = Capacity(meta)
        self.undelivered_events = UndeliveredEvents(meta)
        # The fleet-wide ARM budget's buckets (controlplane.arm.fleet_budget), beside the counts.
        self.arm_budget = BudgetStore(meta)
        # What the reconcile and the heartbeat last found (controlplane.registry.fleet_reports), for /health.
        self.reports = FleetReports(meta)

    @staticmethod
    def table_names(table_name: str) -> list[str]:
        """Every table the registry named ``table_name`` keeps (infra/ declares exactly these)."""
        return [table_name, table_name + META_SUFFIX, table_name + ROLLOUTS_SUFFIX, table_name + AUDIT_SUFFIX]

    @classmethod
    def from_service(cls, service: TableServiceClient, table_name: str) -> TwinRegistry:
        return cls(*(service.get_table_client(name) for name in cls.table_names(table_name)))

    @classmethod
    def from_connection_string(cls, connection_string: str, table_name: str) -> TwinRegistry:
        return cls.from_service(TableServiceClient.from_connection_string(connection_string), table_name)

    def create_table(self) -> None:
        """Create the tables and the count shards if missing (idempotent; run at start-up)."""
        for table in (self._table, self._meta):
            try:
                table.create_table()
            except ResourceExistsError:
                pass
        self.fleet_counts.ensure_shards()
        self.rollouts.create_table()
        self.audit.create_table()

    # -- reads -------------------------------------------------------------------------------

    def get(self, cloud_id: str) -> Twin:
        return from_entity(self._get_entity(cloud_id))

    def exists(self, cloud_id: str) -> bool:
        try:
            self._get_entity(cloud_id)
        except TwinNotFound:
            return False
        return True

    def list(
        self,
        *,
        owner: str | None = None,
        status: Status | None = None,
        runtime_target: str | None = None,
        region: str | None = None,
        deploy_ref: str | None = None,
        not_deploy_ref: str | None = None,
        seen_before: str | None = None,
        limit: int = 100,
        next: str | None = None,
    ) -> Page:
        """One page of rows ordered by cloud_id, filtered by owner, status, runtime target, region, deploy_ref."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput("limit", f"limit must be between 1 and {MAX_PAGE_SIZE}")
        scope = owner or "*"
        after = decode_token(next, scope) if next else None
        if owner:
            clauses = [f"PartitionKey eq {odata_str(OWNER_PARTITION + owner)}"]
            if after:
                clauses.append(f"RowKey gt {odata_str(after)}")
        else:
            clauses = [
                f"PartitionKey gt {odata_str(after)}" if after else f"PartitionKey ge '{FLEET_START}'",
                f"PartitionKey lt '{FLEET_END}'",
                f"RowKey eq '{ROW_KEY}'",
            ]
        if status is not None:
            clauses.append(f"status eq '{Status(status).value}'")
        for name, value in (("runtime_target", runtime_target), ("region", region), ("deploy_ref", deploy_ref)):
            if value is not None:
                clauses.append(f"{name} eq {odata_str(value)}")
        if not_deploy_ref is not None:
            clauses.append(f"deploy_ref ne {odata_str(not_deploy_ref)}")
        if seen_before is not None:  # timestamps are fixed-width ISO text: they order as strings do
            clauses.append(f"last_seen lt {odata_str(seen_before)}")
        # Ask for one more than the page so `next` is given only when another row really exists.
        entities = self._take(" and ".join(clauses), limit + 1)
        items = [from_entity(e) for e in entities[:limit]]
        more = len(entities) > limit
        return Page(items=items, next=encode_token(scope, items[-1].cloud_id) if more else None)

    def scan(self, *clauses: str, page_size: int = MAX_PAGE_SIZE) -> Iterable[Twin]:
        """Every fleet row matching ``clauses`` (OData, and-ed), page by page: timers' work, never a request's."""
        query = " and ".join(
            (f"PartitionKey ge '{FLEET_START}'", f"PartitionKey lt '{FLEET_END}'", f"RowKey eq '{ROW_KEY}'", *clauses)
        )
        for entity in self._table.query_entities(query, results_per_page=page_size):
            yield from_entity(entity)

    def counts(self) -> dict[str, Any]:
        """Fleet counts by status (and total), and live twins by runtime target: 16 entities, any fleet size."""
        return self.fleet_counts.totals()

    def slot_usage(self, key: str) -> int:
        return self.capacity.usage(key)

    # -- writes ------------------------------------------------------------------------------

    def create(self, row: Twin, *, slots: Mapping[str, int] | None = None) -> Twin:
        """Take ``slots`` (key -> limit) for the twin, then insert its row; SlotFull or TwinExists.

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
            raise TwinExists(f"{row.cloud_id} already exists", cloud_id=row.cloud_id) from None
        except BaseException:
            self._give_back(row.cloud_id, taken)
            raise
        try:
            self._after_write(None, row)
        except AzureError as exc:  # the row is written and is the truth: its job must start; the repair
            logger.warning("%s: owner copy or counts not written (%s); the reconcile repairs them", row.cloud_id, exc)
        return row

    def transition(
        self,
        cloud_id: str,
        target: Status,
        *,
        for_job: str | None = None,
        release_slots: bool = False,
        guard: Callable[[Twin], None] | None = None,
        **changes: Any,
    ) -> Twin:
        """Move a row to ``target`` with ``changes``, under optimistic concurrency.

        ``for_job`` guards against stale jobs: when given, the row must belong to that job — a job
        that lost its twin to a newer job cannot write over it. Moving to the status the row
        already has, for the same job, is a no-op, so a retried activity converges.
        Deleted twins give their capacity back; ``release_slots`` does so for another status
        (an errored twin that never created anything). ``guard`` may raise to refuse the move; it
        sees the same read the write is conditional on (a hold placed meanwhile is never missed).
        """
        if target == Status.DELETED or release_slots:
            changes["slots"] = ()

        def change(current: Twin) -> Twin | None:
            if guard is not None:
                guard(current)
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

    def restart(self, cloud_id: str, *, slots: Mapping[str, int] | None = None, **fields: Any) -> Twin:
        """Begin a new provisioning of an errored or deleted twin (new job, possibly new owner/region).

        The twin then holds exactly ``slots`` (taking the new ones, giving back the others).
        """

        def change(current: Twin) -> Twin:
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

    def touch(self, cloud_id: str) -> Twin:
        """Record that the twin was seen alive now."""
        return self.update(cloud_id, lambda current: current.with_changes(last_seen=utc_now()))

    def update(
        self, cloud_id: str, change: Callable[[Twin], Twin | None], *, limits: Mapping[str, int] | None = None
    ) -> Twin:
        """Apply ``change`` to the freshest row; retry from a new read when another writer won.

        ``limits`` gives the limit of every slot the change newly takes.
        """

        def attempt() -> Twin | Retry:
            entity = self._get_entity(cloud_id)
            current = from_entity(entity)
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
                return RETRY
            except BaseException:
                self._give_back(cloud_id, taken)
                raise
            try:
                self._after_write(current, updated)
            except AzureError as exc:  # as in create: the row is written; the reconcile repairs the rest
                logger.warning("%s: owner copy or counts not written (%s)", cloud_id, exc)
            return updated

        return with_etag_retries(attempt, gave_up=f"{cloud_id} kept changing; try again", cloud_id=cloud_id)

    def reconcile(self, first: Mapping[str, Any] | None = None) -> dict[str, int]:
        """Repair counts, places and owner copies (controlplane.registry.repair): correct what two
        observations agree on. ``first``: an earlier ``observe()``; without it, one is taken now."""
        return repair.confirm(self, first if first is not None else repair.observe(self))

    # -- internals ---------------------------------------------------------------------------

    def _get_entity(self, cloud_id: str) -> Any:
        try:
            return self._table.get_entity(cloud_id, ROW_KEY)
        except ResourceNotFoundError:
            raise TwinNotFound(f"no brainstem {cloud_id}", cloud_id=cloud_id) from None

    def _take(self, query: str, wanted: int) -> builtins.list[dict[str, Any]]:
        found: builtins.list[dict[str, Any]] = []
        pages = self._table.query_entities(query, results_per_page=min(wanted, MAX_PAGE_SIZE)).by_page()
        for page in pages:
            found.extend(page)
            if len(found) >= wanted:
                break
        return found[:wanted]

    def _take_slots(self, cloud_id: str, keys: Iterable[str], limits: Mapping[str, int]) -> builtins.list[str]:
        taken: builtins.list[str] = []
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

    def _after_write(self, before: Twin | None, after: Twin) -> None:
        """The writes that follow a row's: its owner copy, the counts, and places it no longer holds."""
        self._table.upsert_entity(owner_entity(after), mode=UpdateMode.REPLACE)
        if before is not None and before.owner != after.owner:
            self._table.delete_entity(OWNER_PARTITION + before.owner, before.cloud_id)
        self.fleet_counts.apply(before, after)
        if before is not None:
            self._give_back(after.cloud_id, [k for k in before.slots if k not in after.slots])


def iter_all(registry: TwinRegistry, **filters: Any) -> Iterable[Twin]:
    """Every row, page by page (for operators' tools and tests; never on a request path)."""
    token = None
    while True:
        page = registry.list(limit=MAX_PAGE_SIZE, next=token, **filters)
        yield from page.items
        if page.next is None:
            return
        token = page.next
