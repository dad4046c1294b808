"""Repair what a crash between a row's writes leaves behind, without racing the writes still going on.

A row, its owner copy, its counts and its capacity places are separate writes (see the package
docstring); a process that dies between them leaves a count off by one, a place held by nobody, a
stale owner copy. The old repair recounted everything and wrote the totals back blind, so a create
that landed during the scan could be lost from the counts, or its place given away.

Here a repair acts only on what **two observations, a grace period apart, agree on**, and every
correction is itself race-free:

- **counts**: a key whose difference (rows counted − counters) is the same non-zero number in both
  observations is corrected by *adding* that difference (``FleetCounts.add``, ETag-guarded): an
  increment commutes with the increments live writes make, where writing a total would erase them.
  A write in flight during one scan changes its difference for that scan only, so it never agrees.
- **places**: a place held by a twin whose row does not hold it (or no row), or a row's place
  missing from its slot, seen in both observations, is re-read (the row itself) and then given
  back or added, ETag-guarded per member.
- **owner copies**: a copy that differs from its row in both observations is rewritten from a fresh
  read of the row, under the ETag of the copy read *before* the row, so a live write that lands in
  between wins.

Live writes finish in milliseconds; the grace (``CP_RECONCILE_GRACE_SECONDS``) is far longer, so a
write in flight at the first observation has landed by the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from controlplane.domain.errors import TwinNotFound
from controlplane.domain.lifecycle import LIVE_STATUSES
from controlplane.domain.twin import Twin
from controlplane.registry.capacity import Capacity
from controlplane.registry.entities import FLEET_END, FLEET_START, OWNER_PARTITION, ROW_KEY, from_entity, owner_entity
from controlplane.registry.fleet_counts import FleetCounts, count_keys


class RepairableRegistry(Protocol):
    """What the repair reads and writes of a ``TwinRegistry``: named here, so that the registry
    imports its repair at module level and the two modules form no import cycle."""

    @property
    def _table(self) -> TableClient: ...
    @property
    def capacity(self) -> Capacity: ...
    @property
    def fleet_counts(self) -> FleetCounts: ...
    def get(self, cloud_id: str) -> Twin: ...


_COPY_FIELDS = ("PartitionKey", "RowKey")
SUSPECT_LIMIT = 2_000  # suspects carried between observations (a Durable payload): the rest wait a run


def observe(registry: RepairableRegistry) -> dict[str, Any]:
    """One observation: count differences, suspect places, suspect owner copies (JSON-native)."""
    table = registry._table  # noqa: SLF001 - the registry's own repair
    before = registry.fleet_counts.raw_totals()
    counted: dict[str, int] = {}
    holders: dict[str, set[str]] = {}
    rows: dict[str, dict[str, Any]] = {}
    fleet = f"PartitionKey ge '{FLEET_START}' and PartitionKey lt '{FLEET_END}' and RowKey eq '{ROW_KEY}'"
    for entity in table.query_entities(fleet):
        row = from_entity(entity)
        for key in count_keys(row):
            counted[key] = counted.get(key, 0) + 1
        if row.status in LIVE_STATUSES:
            for key in row.slots:
                holders.setdefault(key, set()).add(row.cloud_id)
        rows[row.cloud_id] = _copy_of(owner_entity(row))
    after = registry.fleet_counts.raw_totals()
    keys = set(counted) | set(after)
    # A key whose counters moved during the scan is not judged this time.
    deltas = {k: counted.get(k, 0) - after.get(k, 0) for k in keys if before.get(k, 0) == after.get(k, 0)}
    places: list[list[str]] = []
    for key in sorted(set(registry.capacity.all_keys()) | set(holders)):
        members = registry.capacity.members(key)
        places += [[key, cid] for cid in sorted(members ^ holders.get(key, set()))]
    copies: list[str] = []
    owners = f"PartitionKey ge '{OWNER_PARTITION}' and PartitionKey lt 'owner}}'"
    seen_copies: set[str] = set()
    for entity in table.query_entities(owners):
        cloud_id = str(entity["RowKey"])
        seen_copies.add(cloud_id)
        if rows.get(cloud_id) != _copy_of(entity):
            copies.append(f"{entity['PartitionKey']}\n{cloud_id}")
    copies += [f"{OWNER_PARTITION}{rows[cid]['owner']}\n{cid}" for cid in sorted(set(rows) - seen_copies)]
    return {
        "deltas": {k: v for k, v in sorted(deltas.items()) if v},
        "rows": len(rows),
        "places": places[:SUSPECT_LIMIT],
        "copies": sorted(copies)[:SUSPECT_LIMIT],
    }


def confirm(registry: RepairableRegistry, first: Mapping[str, Any]) -> dict[str, int]:
    """Observe again and correct what both observations agree on. Returns what it corrected."""
    second = observe(registry)
    agreed = {k: v for k, v in second["deltas"].items() if first["deltas"].get(k) == v}
    if agreed:
        registry.fleet_counts.add(agreed)
    registry.fleet_counts.compact()
    places = {tuple(p) for p in first["places"]} & {tuple(p) for p in second["places"]}
    fixed_places = sum(_fix_place(registry, key, cloud_id) for key, cloud_id in sorted(places))
    copies = set(first["copies"]) & set(second["copies"])
    fixed_copies = sum(_fix_copy(registry, *suspect.split("\n", 1)) for suspect in sorted(copies))
    return {
        "rows": second["rows"],
        "counts_fixed": len(agreed),
        "slots_fixed": fixed_places,
        "copies_fixed": fixed_copies,
    }


def _fix_place(registry: RepairableRegistry, key: str, cloud_id: str) -> int:
    try:
        row = registry.get(cloud_id)
        holds = row.status in LIVE_STATUSES and key in row.slots
    except TwinNotFound:
        holds = False
    members = registry.capacity.members(key)
    if holds and cloud_id not in members:
        registry.capacity.add(key, cloud_id)
        return 1
    if not holds and cloud_id in members:
        registry.capacity.give_back(key, cloud_id)
        return 1
    return 0


def _fix_copy(registry: RepairableRegistry, partition: str, cloud_id: str) -> int:
    table = registry._table  # noqa: SLF001
    try:
        copy = table.get_entity(partition, cloud_id)  # the copy first: a later live write changes its ETag
    except ResourceNotFoundError:
        copy = None
    try:
        row = registry.get(cloud_id)
    except TwinNotFound:
        row = None
    wanted = owner_entity(row) if row is not None else None
    try:
        if wanted is not None and wanted["PartitionKey"] == partition:
            if copy is not None and _copy_of(copy) == _copy_of(wanted):
                return 0
            if copy is None:
                table.create_entity(wanted)
            else:
                table.update_entity(
                    wanted, mode=UpdateMode.REPLACE, etag=copy.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )  # fmt: skip
            return 1
        if copy is not None:  # a copy under an owner the row no longer has (or of no row at all)
            table.delete_entity(
                partition, cloud_id, etag=copy.metadata["etag"], match_condition=MatchConditions.IfNotModified
            )
            return 1
    except (ResourceModifiedError, ResourceExistsError):
        return 0  # a live write got there first: it is right by definition
    return 0


def _copy_of(entity: Mapping[str, Any]) -> dict[str, Any]:
    """An owner copy's content without its keys (a copy and its row differ in nothing else)."""
    return {k: v for k, v in entity.items() if k not in _COPY_FIELDS}
