"""The registry against a real Azurite: create, read, paging, owner index, races, counts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from azure.data.tables import TableServiceClient

from controlplane.domain.errors import (
    ConcurrentUpdate,
    IllegalTransition,
    InvalidInput,
    SlotFull,
    TwinExists,
    TwinNotFound,
)
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.twin import Twin, utc_now
from controlplane.registry import TwinRegistry, encode_token, iter_all


@pytest.fixture
def registry(storage_connection: str, table_name: str) -> TwinRegistry:
    reg = TwinRegistry.from_connection_string(storage_connection, table_name)
    reg.create_table()
    return reg


def make_row(name: str, owner: str = "github:alice", status: Status = Status.PROVISIONING) -> Twin:
    names = twin_names(name)
    now = utc_now()
    return Twin(
        cloud_id=names.cloud_id, name=name, owner=owner, region="eastus2",
        runtime_target="azure-consumption-py311", deploy_ref="main", status=status,
        job_id="job-" + name, created_at=now, last_seen=now,
    )  # fmt: skip


def bulk_insert(storage_connection: str, table_name: str, rows: list[Twin]) -> None:
    """Seed many rows quickly in the registry's own entity shapes (row, owner copy), as the registry writes them."""
    from controlplane.registry import owner_entity, row_entity

    table = TableServiceClient.from_connection_string(storage_connection).get_table_client(table_name)

    def write(row: Twin) -> None:
        table.create_entity(row_entity(row))
        table.create_entity(owner_entity(row))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, rows))


def test_create_then_get_round_trips_every_column(registry: TwinRegistry) -> None:
    row = make_row("kody").with_changes(error={"step": "x", "code": "Y", "message": "z"}, subscription_id="sub")
    registry.create(row)
    assert registry.get("twin-kody-e89834") == row
    assert registry.exists("twin-kody-e89834")
    assert not registry.exists("twin-molly-4181ee")


def test_duplicate_create_fails_clearly_and_changes_nothing(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"))
    with pytest.raises(TwinExists, match="twin-kody-e89834 already exists"):
        registry.create(make_row("kody", owner="github:mallory"))
    assert registry.get("twin-kody-e89834").owner == "github:alice"
    assert registry.counts()["total"] == 1


def test_get_missing_raises_not_found(registry: TwinRegistry) -> None:
    with pytest.raises(TwinNotFound):
        registry.get("twin-kody-e89834")


def test_lifecycle_and_counts_stay_exact(registry: TwinRegistry) -> None:
    for name in ("kody", "molly", "ada"):
        registry.create(make_row(name))
    registry.transition("twin-kody-e89834", Status.ACTIVE, url="https://twin-kody-e89834.azurewebsites.net")
    registry.transition("twin-molly-4181ee", Status.ERRORED, error={"step": "storage", "code": "Boom", "message": "m"})
    counts = registry.counts()
    assert counts.pop("by_runtime_target") == {"azure-consumption-py311": 3}
    assert counts.pop("by_deploy_ref") == {"main": 3}
    assert counts == {
        "provisioning": 1,
        "active": 1,
        "updating": 0,
        "errored": 1,
        "deleting": 0,
        "deleted": 0,
        "missing": 0,
        "total": 3,
    }
    registry.transition("twin-kody-e89834", Status.DELETING)
    registry.transition("twin-kody-e89834", Status.DELETED)
    registry.restart("twin-molly-4181ee", job_id="job-2")
    counts = registry.counts()
    assert counts.pop("by_runtime_target") == {"azure-consumption-py311": 2}  # kody is deleted
    assert counts.pop("by_deploy_ref") == {"main": 2}
    assert counts == {
        "provisioning": 2,
        "active": 0,
        "updating": 0,
        "errored": 0,
        "deleting": 0,
        "deleted": 1,
        "missing": 0,
        "total": 3,
    }
    molly = registry.get("twin-molly-4181ee")
    assert molly.status == Status.PROVISIONING and molly.error is None and molly.job_id == "job-2"


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([Status.DELETING, Status.DELETED], Status.ACTIVE),
        ([Status.ACTIVE], Status.PROVISIONING),
        ([Status.ACTIVE], Status.ERRORED),
        ([Status.DELETING], Status.ACTIVE),
        ([], Status.DELETED),
    ],
    ids=["deleted->active", "active->provisioning", "active->errored", "deleting->active", "provisioning->deleted"],
)
def test_illegal_transitions_raise_and_change_nothing(
    registry: TwinRegistry, path: list[Status], illegal: Status
) -> None:
    registry.create(make_row("kody"))
    for status in path:
        registry.transition("twin-kody-e89834", status)
    before = registry.get("twin-kody-e89834")
    with pytest.raises(IllegalTransition, match="cannot become"):
        registry.transition("twin-kody-e89834", illegal)
    assert registry.get("twin-kody-e89834") == before


def test_same_status_same_job_is_an_idempotent_no_op(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"))
    first = registry.transition("twin-kody-e89834", Status.ACTIVE, for_job="job-kody", url="u")
    again = registry.transition("twin-kody-e89834", Status.ACTIVE, for_job="job-kody", url="u")
    assert again == first
    assert registry.counts()["active"] == 1


def test_a_stale_job_cannot_write_over_a_newer_one(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"))
    registry.transition("twin-kody-e89834", Status.ERRORED, for_job="job-kody")
    registry.restart("twin-kody-e89834", job_id="job-new")
    with pytest.raises(ConcurrentUpdate, match="belongs to job job-new"):
        registry.transition("twin-kody-e89834", Status.ACTIVE, for_job="job-kody")
    assert registry.get("twin-kody-e89834").status == Status.PROVISIONING


def test_concurrent_transitions_exactly_one_wins(registry: TwinRegistry) -> None:
    """Two writers race from provisioning: one to active, one to errored. ETags pick one winner."""
    for round_ in range(5):
        name = f"race{round_}"
        registry.create(make_row(name))
        cloud_id = twin_names(name).cloud_id
        barrier = threading.Barrier(2)
        outcomes: dict[Status, object] = {}

        def writer(target: Status) -> None:
            barrier.wait()
            try:
                outcomes[target] = registry.transition(cloud_id, target)
            except IllegalTransition as exc:
                outcomes[target] = exc

        threads = [threading.Thread(target=writer, args=(s,)) for s in (Status.ACTIVE, Status.ERRORED)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [s for s, o in outcomes.items() if isinstance(o, Twin)]
        assert len(winners) == 1, outcomes
        assert registry.get(cloud_id).status == winners[0]
    counts = registry.counts()
    assert counts["active"] + counts["errored"] == 5 and counts["provisioning"] == 0


def test_many_concurrent_creates_keep_counts_exact(registry: TwinRegistry) -> None:
    names = [f"c{i}" for i in range(60)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: registry.create(make_row(n, owner=f"github:o{hash(n) % 3}")), names))
    assert registry.counts()["provisioning"] == 60
    assert sum(1 for _ in iter_all(registry)) == 60


def test_paging_over_2500_rows_with_owner_and_status_filters(
    registry: TwinRegistry, storage_connection: str, table_name: str
) -> None:
    rows = [
        make_row(f"t{i:05d}", owner="github:alice" if i % 5 == 0 else "github:bob",
                 status=Status.ACTIVE if i % 2 == 0 else Status.PROVISIONING)
        for i in range(2600)
    ]  # fmt: skip
    bulk_insert(storage_connection, table_name, rows)
    expected_ids = sorted(r.cloud_id for r in rows)

    seen, token, pages = [], None, 0
    while True:
        page = registry.list(limit=1000, next=token)
        pages += 1
        seen += [r.cloud_id for r in page.items]
        if page.next is None:
            break
        token = page.next
    assert pages == 3 and seen == expected_ids  # ordered by cloud_id, each row once

    alice = [r.cloud_id for r in iter_all(registry, owner="github:alice")]
    assert alice == sorted(r.cloud_id for r in rows if r.owner == "github:alice")
    alice_active = [r.cloud_id for r in iter_all(registry, owner="github:alice", status=Status.ACTIVE)]
    assert alice_active == sorted(r.cloud_id for r in rows if r.owner == "github:alice" and r.status == Status.ACTIVE)

    page = registry.list(owner="github:bob", status=Status.PROVISIONING, limit=7)
    assert len(page.items) == 7 and all(r.owner == "github:bob" and r.status == Status.PROVISIONING for r in page.items)


def test_last_page_has_no_next_token(registry: TwinRegistry) -> None:
    for name in ("a1", "a2", "a3"):
        registry.create(make_row(name))
    page = registry.list(limit=3)
    assert [r.name for r in page.items] == ["a1", "a2", "a3"] and page.next is None
    page = registry.list(limit=2)
    assert page.next is not None
    rest = registry.list(limit=2, next=page.next)
    assert [r.name for r in rest.items] == ["a3"] and rest.next is None


def test_owner_change_on_reprovision_moves_the_owner_index(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"))
    registry.transition("twin-kody-e89834", Status.DELETING)
    registry.transition("twin-kody-e89834", Status.DELETED)
    registry.restart("twin-kody-e89834", job_id="j2", owner="github:carol")
    assert registry.list(owner="github:alice").items == []
    assert [r.cloud_id for r in registry.list(owner="github:carol").items] == ["twin-kody-e89834"]


@pytest.mark.parametrize(
    "token", ["garbage!", encode_token("github:bob", "twin-x"), "e30"], ids=["junk", "other-scope", "empty-json"]
)
def test_bad_tokens_and_limits_are_rejected(registry: TwinRegistry, token: str) -> None:
    with pytest.raises(InvalidInput) as info:
        registry.list(owner="github:alice", next=token)
    assert info.value.field == "next"


@pytest.mark.parametrize("limit", [0, 1001])
def test_limit_out_of_range(registry: TwinRegistry, limit: int) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        registry.list(limit=limit)


def test_slots_are_reserved_with_the_row_and_given_back_on_delete(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"), slots={"owner:github:alice": 2})
    registry.create(make_row("molly"), slots={"owner:github:alice": 2})
    with pytest.raises(SlotFull) as full:
        registry.create(make_row("ada"), slots={"owner:github:alice": 2})
    assert (full.value.limit, full.value.used) == (2, 2)
    assert not registry.exists("twin-ada-" + twin_names("ada").hash6)  # nothing half-created
    assert registry.counts()["total"] == 2

    registry.transition("twin-kody-e89834", Status.DELETING)
    assert registry.slot_usage("owner:github:alice") == 2  # still holds resources while deleting
    registry.transition("twin-kody-e89834", Status.DELETED)
    assert registry.slot_usage("owner:github:alice") == 1
    assert registry.get("twin-kody-e89834").slots == ()
    registry.create(make_row("ada"), slots={"owner:github:alice": 2})
    assert registry.slot_usage("owner:github:alice") == 2


def test_restart_moves_slots(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"), slots={"place:s1:eastus2": 5})
    registry.transition("twin-kody-e89834", Status.ERRORED, release_slots=True)
    assert registry.slot_usage("place:s1:eastus2") == 0
    registry.restart("twin-kody-e89834", job_id="j2", slots={"place:s2:westeurope": 5})
    assert (registry.slot_usage("place:s1:eastus2"), registry.slot_usage("place:s2:westeurope")) == (0, 1)


def test_concurrent_creates_never_overfill_a_slot(registry: TwinRegistry) -> None:
    """200 creates race for 50 places: exactly 50 rows exist, the slot says 50."""
    limit = 50

    def attempt(i: int) -> bool:
        # A writer that loses the ETag race ATTEMPTS times gets ConcurrentUpdate ("try again"), as a
        # caller gets a 409; how often that happens depends on the machine's load, so it retries here
        # like a caller would. What is checked does not depend on timing: the slot never overfills.
        while True:
            try:
                registry.create(make_row(f"r{i}"), slots={"place:sub:eastus2": limit})
            except SlotFull:
                return False
            except ConcurrentUpdate:
                continue
            return True

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(200)))
    assert sum(outcomes) == limit
    assert registry.slot_usage("place:sub:eastus2") == limit
    assert registry.counts()["provisioning"] == limit


def test_reconcile_repairs_what_a_crash_between_writes_leaves(
    registry: TwinRegistry, storage_connection: str, table_name: str
) -> None:
    # Rows written with no count change (as if the process died right after each row write)...
    bulk_insert(storage_connection, table_name, [make_row(f"x{i}", status=Status.ACTIVE) for i in range(5)])
    registry.create(make_row("kody"), slots={"place:s:eastus2": 10})
    # ...and a place taken by a create that died before writing its row.
    registry.capacity.take("place:s:eastus2", "twin-ghost-000000", 10)
    assert registry.counts()["total"] == 1 and registry.slot_usage("place:s:eastus2") == 2

    fixed = registry.reconcile()
    assert fixed["rows"] == 6 and fixed["slots_fixed"] == 1
    counts = registry.counts()
    assert (counts["total"], counts["active"], counts["provisioning"]) == (6, 5, 1)
    assert registry.capacity.members("place:s:eastus2") == {"twin-kody-e89834"}


def test_a_second_create_of_the_same_twin_keeps_the_first_ones_place(registry: TwinRegistry) -> None:
    registry.create(make_row("kody"), slots={"owner:github:alice": 5})
    with pytest.raises(TwinExists):
        registry.create(make_row("kody"), slots={"owner:github:alice": 5})
    assert registry.capacity.members("owner:github:alice") == {"twin-kody-e89834"}


def test_health_names_the_largest_deploy_refs_and_sums_the_rest(registry: TwinRegistry) -> None:
    from controlplane.registry.fleet_counts import TOP_DEPLOY_REFS

    names = [f"r{i}" for i in range(TOP_DEPLOY_REFS + 3)]
    for index, name in enumerate(names):
        registry.create(make_row(name).with_changes(deploy_ref=f"v{index}"))
    registry.create(make_row("extra").with_changes(deploy_ref="v0"))
    by_ref = registry.counts()["by_deploy_ref"]
    assert by_ref["v0"] == 2 and by_ref["other"] == 3 and len(by_ref) == TOP_DEPLOY_REFS + 1
    # A version no twin runs any more leaves no property behind in the count shards after a reconcile.
    for name in names:
        registry.transition(twin_names(name).cloud_id, Status.DELETING)
        registry.transition(twin_names(name).cloud_id, Status.DELETED)
    assert registry.counts()["by_deploy_ref"] == {"v0": 1}
    registry.reconcile()  # rewrites the shards with only the counters rows still need
    assert registry.counts()["by_deploy_ref"] == {"v0": 1}
    shards = registry._meta.query_entities("PartitionKey eq '~counts'")
    assert not [key for shard in shards for key in shard if key.startswith("ref_") and key != "ref_" + b"v0".hex()]
