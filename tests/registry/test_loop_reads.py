"""The periodic loops' reads, counted from Azurite's answers: each reads what it must look at, by key.

The counts come from bench.table_counter (an azure-core response hook on the registry's clients):
entities the service returned, requests, and queries that filter on a non-key property (which make
the service read more than it returns). Sizes are small; bench.loops measures 1k–100k rows.
"""

from __future__ import annotations

import uuid

import pytest
from azure.data.tables import TableServiceClient

from bench.table_counter import TableCounter, filter_properties
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.placement import region_slot, subscription_slot
from controlplane.domain.rollouts import RolloutSpec
from controlplane.domain.twin import Twin, utc_now
from controlplane.registry import TwinRegistry, fleet_reads

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def counted(storage_connection: str, table_name: str) -> tuple[TwinRegistry, TableCounter]:
    counter = TableCounter()
    service = TableServiceClient.from_connection_string(storage_connection, raw_response_hook=counter)
    registry = TwinRegistry.from_service(service, table_name)
    registry.create_table()
    counter.take()
    return registry, counter


def sub(k: int) -> str:
    return f"00000000-0000-4000-8000-{k + 1:012d}"


def seed(registry: TwinRegistry, rows: int, subscriptions: int, status: Status = Status.ACTIVE) -> None:
    """Rows made as creates make them: each takes its places in its subscription's sets, then is written."""
    now = utc_now()
    for i in range(rows):
        names = twin_names(f"lr{i:04d}")
        subscription = sub(i % subscriptions)
        row = Twin(
            cloud_id=names.cloud_id, name=names.name, owner="github:alice", region="eastus2",
            runtime_target="azure-consumption-py311", deploy_ref="main", status=status, job_id=uuid.uuid4().hex,
            created_at=now, last_seen=now, subscription_id=subscription,
        )  # fmt: skip
        registry.create(row, slots={subscription_slot(subscription): 1000, region_slot(subscription, "eastus2"): 1000})


def test_the_counter_tells_key_filters_from_property_filters() -> None:
    assert filter_properties("PartitionKey eq 'a''status eq x' and RowKey gt 'b'") == {"PartitionKey", "RowKey"}
    assert filter_properties("PartitionKey eq 'rollout|r' and wave eq 3 and state eq 'started'") == {
        "PartitionKey", "wave", "state",
    }  # fmt: skip


@pytest.mark.parametrize("subscriptions", [2, 6])
def test_a_subscriptions_drift_reads_its_own_rows_only_whatever_the_subscription_count(
    storage_connection: str, table_name: str, subscriptions: int
) -> None:
    registry, counter = counted(storage_connection, table_name)
    seed(registry, 36, subscriptions)
    counter.take()
    total = 0
    for k in range(subscriptions):
        rows = fleet_reads.subscription_rows(registry, sub(k), (Status.ACTIVE, Status.MISSING))
        counts = counter.take()
        assert len(rows) == 36 // subscriptions
        # its capacity set, then each of its rows: nothing of another subscription's
        assert counts.entities == len(rows) + 1 and counts.requests == len(rows) + 1, counts
        assert counts.filtered_queries == 0
        total += counts.entities
    assert total == 36 + subscriptions  # the fleet once, plus one set per subscription


def test_fleet_pages_read_every_row_once_by_key(storage_connection: str, table_name: str) -> None:
    registry, counter = counted(storage_connection, table_name)
    seed(registry, 25, 3)
    registry.transition(twin_names("lr0003").cloud_id, Status.DELETING)  # every status is read, once
    counter.take()
    seen: list[str] = []
    cursor = None
    while True:
        page = fleet_reads.fleet_page(registry, after=cursor, limit=10)
        seen += [row.cloud_id for row in page.rows]
        cursor = page.next
        if cursor is None:
            break
    counts = counter.take()
    assert len(seen) == len(set(seen)) == 25
    assert counts.entities == 25 and counts.filtered_queries == 0, counts
    assert counts.requests <= 4  # three pages, and at most one empty answer after a full one


def test_a_rollout_look_reads_only_its_wave_and_state(storage_connection: str, table_name: str) -> None:
    registry, counter = counted(storage_connection, table_name)
    spec = RolloutSpec.from_dict({"rollout_id": "r-looks", "deploy_ref": "v2"})
    registry.rollouts.create(spec, created_by="test")
    for i in range(60):
        cloud_id = twin_names(f"lr{i:04d}").cloud_id
        wave = i % 3
        registry.rollouts.record_twin(spec.rollout_id, wave, cloud_id, "started", batch=0, job_id=f"j{i}")
        if i % 4 == 0:
            registry.rollouts.record_twin(spec.rollout_id, wave, cloud_id, "succeeded")
        if i % 12 == 0:
            registry.rollouts.record_twin(spec.rollout_id, wave, cloud_id, "failed", error={"code": "X"})
    counter.take()
    started = list(registry.rollouts.twins(spec.rollout_id, wave=1, state="started"))
    counts = counter.take()
    expected = [i for i in range(60) if i % 3 == 1 and i % 4 != 0]
    assert len(started) == len(expected) and counts.entities == len(expected), counts
    assert counts.filtered_queries == 0
    assert {t["job_id"] for t in started} == {f"j{i}" for i in expected}
    succeeded = registry.rollouts.twins_page(spec.rollout_id, wave=1, state="succeeded", after=None, limit=100)
    counts = counter.take()
    assert len(succeeded) == counts.entities == 5 and counts.filtered_queries == 0
    batch = registry.rollouts.batch_twins(spec.rollout_id, 2, 0)
    counts = counter.take()
    assert len(batch) == counts.entities == 20 and counts.filtered_queries == 0
    assert {t["state"] for t in batch} == {"started", "succeeded"}  # the copy follows the twin's state
    failures = registry.rollouts.failures(spec.rollout_id)
    counts = counter.take()
    assert len(failures) == counts.entities == 5 and counts.filtered_queries == 0
    assert all(f["error"] == {"code": "X"} for f in failures)
    # The recount (the truth) still reads the twins' own entities only.
    waves = registry.rollouts.recount(spec.rollout_id)
    assert counter.take().entities == 60
    assert sum(w["failed"] for w in waves) == 5 and sum(w["succeeded"] for w in waves) == 10
