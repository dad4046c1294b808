"""The periodic loops' reads: each reads only what it must look at, by key, never once per subscription.

Table Storage serves a query by its keys; a filter on any other property (``status``,
``subscription_id``) makes it read every entity in the key range and drop the ones that do not
match (Learn: "Design for querying"). A loop that filtered the fleet on ``subscription_id`` once
per subscription therefore read the whole fleet S times. Here:

- ``fleet_page``: one page of fleet rows by key range alone (``PartitionKey`` after a cursor,
  ``RowKey`` the row's): the heartbeat and the lost-job check read the fleet once a run, in pages,
  and judge status themselves — what the service reads is exactly what they receive.
- ``subscription_rows``: one subscription's twins, from the subscription's capacity set (every
  live twin holds a place in it: controlplane.domain.placement) and a point read of each member:
  a subscription's drift reads its own rows and no other, however many subscriptions there are.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from controlplane.domain.errors import TwinNotFound
from controlplane.domain.lifecycle import Status
from controlplane.domain.placement import subscription_slot
from controlplane.domain.twin import Twin
from controlplane.registry.entities import FLEET_END, FLEET_START, MAX_PAGE_SIZE, ROW_KEY, from_entity, odata_str

if TYPE_CHECKING:
    from controlplane.registry.twin_registry import TwinRegistry

POINT_READS_AT_ONCE = 16  # a subscription's members read in parallel (≤ 980: a few seconds at most)


@dataclass(frozen=True)
class FleetPage:
    rows: list[Twin]
    next: str | None  # the cloud_id the next page starts after; None when this page was the last


def fleet_page(registry: TwinRegistry, *, after: str | None, limit: int = MAX_PAGE_SIZE) -> FleetPage:
    """Up to ``limit`` fleet rows in cloud_id order after ``after``, by key alone (every status)."""
    start = f"PartitionKey gt {odata_str(after)}" if after else f"PartitionKey ge '{FLEET_START}'"
    query = f"{start} and PartitionKey lt '{FLEET_END}' and RowKey eq '{ROW_KEY}'"
    table = registry._table  # noqa: SLF001 - the registry's own reads
    rows: list[Twin] = []
    pages = table.query_entities(query, results_per_page=limit).by_page()
    # The service may end a page early (Learn: "Query timeout and pagination"); keep every row it sent
    # rather than read any twice, and go on only while the service says more follow.
    for page in pages:
        rows.extend(from_entity(entity) for entity in page)
        if len(rows) >= limit:
            break
    more = pages.continuation_token is not None  # type: ignore[attr-defined]
    return FleetPage(rows, rows[-1].cloud_id if more and rows else None)


def subscription_rows(registry: TwinRegistry, subscription_id: str, statuses: Collection[Status]) -> list[Twin]:
    """The rows of ``subscription_id`` in ``statuses``, read by key: its capacity set, then each member's row.

    A member whose row is gone or is elsewhere is skipped (a place a crash left held; the repair
    gives it back); a row whose place is missing from the set is put back by the repair too."""
    members = sorted(registry.capacity.members(subscription_slot(subscription_id)))

    def read(cloud_id: str) -> Twin | None:
        try:
            return registry.get(cloud_id)
        except TwinNotFound:
            return None

    with ThreadPoolExecutor(POINT_READS_AT_ONCE) as pool:
        rows = list(pool.map(read, members))
    return [
        row for row in rows if row is not None and row.subscription_id == subscription_id and row.status in statuses
    ]
