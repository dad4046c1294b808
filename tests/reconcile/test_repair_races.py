"""The registry repair acts only on what two observations agree on, so writes in flight are never undone."""

from __future__ import annotations

from controlplane.domain.lifecycle import Status
from controlplane.registry import TwinRegistry
from controlplane.registry import repair as registry_repair
from tests.registry.test_registry import bulk_insert, make_row, registry  # noqa: F401 - the registry fixture


def test_a_count_change_still_in_flight_at_the_first_look_is_not_counted_twice(
    registry: TwinRegistry, storage_connection: str, table_name: str
) -> None:
    row = make_row("kody", status=Status.ACTIVE)
    bulk_insert(storage_connection, table_name, [row])  # the row's write landed; its count change has not yet

    first = registry_repair.observe(registry)
    assert first["deltas"]["active"] == 1  # the first look sees a row the counts miss...
    registry.fleet_counts.apply(None, row)  # ...and then the in-flight count change lands

    fixed = registry.reconcile(first)

    # Adding the first look's +1 would have counted kody twice; the second look disagreed, so nothing moved.
    assert fixed["counts_fixed"] == 0 and registry.counts()["active"] == 1


def test_a_place_taken_by_a_create_in_flight_is_not_given_away(registry: TwinRegistry) -> None:
    key = "place:s:eastus2"
    registry.capacity.take(key, "twin-kody-e89834", 10)  # create: its place is taken, its row not yet written
    first = registry_repair.observe(registry)
    assert [key, "twin-kody-e89834"] in first["places"]
    registry.create(make_row("kody"), slots={key: 10})  # the row lands before the second look

    fixed = registry.reconcile(first)

    assert fixed["slots_fixed"] == 0 and registry.capacity.members(key) == {"twin-kody-e89834"}


def test_what_both_looks_agree_on_is_repaired(registry: TwinRegistry, storage_connection: str, table_name: str) -> None:
    bulk_insert(storage_connection, table_name, [make_row("x1", status=Status.ACTIVE)])  # a count never applied
    registry.capacity.take("place:s:eastus2", "twin-ghost-000000", 10)  # a place whose create died
    row = registry.create(make_row("kody"))
    registry._table.delete_entity("owner|" + row.owner, row.cloud_id)  # noqa: SLF001 - an owner copy never written

    first = registry_repair.observe(registry)
    fixed = registry.reconcile(first)

    assert (fixed["counts_fixed"], fixed["slots_fixed"], fixed["copies_fixed"]) >= (1, 1, 1)
    assert registry.counts()["active"] == 1 and registry.capacity.members("place:s:eastus2") == set()
    assert row.cloud_id in [r.cloud_id for r in registry.list(owner=row.owner).items]
    assert registry_repair.observe(registry) == {"deltas": {}, "rows": 2, "places": [], "copies": []}
