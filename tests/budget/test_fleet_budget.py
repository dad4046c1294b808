"""The fleet-wide ARM budget on real Table Storage (Azurite), from several processes at once."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from azure.data.tables import TableServiceClient

from controlplane.arm.fleet_budget import BudgetPolicy, FleetWriteBudget
from controlplane.domain.write_budget import BucketShape
from controlplane.registry.arm_budget import BudgetStore
from sandbox.lifetime import die_with_parent

SUB = "00000000-0000-4000-8000-0000000000aa"
SHAPE = BucketShape(rate=20, burst=10)


@pytest.fixture
def table(storage_connection: str):  # type: ignore[no-untyped-def]
    name = "budget" + uuid.uuid4().hex[:12]
    client = TableServiceClient.from_connection_string(storage_connection).create_table(name)
    yield client
    client.delete_table()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def budget(table, clock: Clock, *, block: int = 1, bulk: float = 1.0, grace: float = 5.0) -> FleetWriteBudget:  # type: ignore[no-untyped-def]
    policy = BudgetPolicy(
        shapes={"writes": SHAPE, "deletes": SHAPE},
        horizons={"interactive": 60.0, "bulk": bulk, "deletes": 60.0},
        block=block,
        grace=grace,
    )
    return FleetWriteBudget(BudgetStore(table), policy, clock=clock)


def test_two_instances_share_one_bucket(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    first, second = budget(table, clock), budget(table, clock)
    starts = [b.reserve(SUB, "interactive", 1).not_before for b in (first, second) * 10]
    # 10 at once (the burst), then one every 1/20 s, whichever instance asked.
    assert starts[:10] == pytest.approx([clock.now] * 10)
    assert starts[10:] == pytest.approx([clock.now + (i + 1) / 20 for i in range(10)])


def test_deletes_are_never_queued_behind_writes(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock)
    for _ in range(40):
        shared.reserve(SUB, "interactive", 1)
    assert shared.reserve(SUB, "deletes", 1).not_before == clock.now


def test_one_subscriptions_backlog_never_delays_another(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock)
    for _ in range(40):
        shared.reserve(SUB, "interactive", 1)
    assert shared.reserve(SUB.replace("aa", "bb"), "interactive", 1).not_before == clock.now


def test_a_rollout_books_only_a_little_ahead_so_single_twin_work_waits_little(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock, bulk=1.01)  # a hair over 1 s, so float rounding cannot drop the 30th
    bulk = [shared.reserve(SUB, "bulk", 1) for _ in range(100)]
    booked = [g for g in bulk if g.not_before is not None]
    refused = [g for g in bulk if g.retry_at is not None]
    assert len(booked) == 10 + 20 and refused  # the burst, and one second of the rate; the rest told to come back
    single = shared.reserve(SUB, "interactive", 1)
    assert single.not_before is not None and single.not_before - clock.now <= 1.01 + 1 / 20


def test_a_rollouts_finishing_steps_wait_while_twins_wait_to_begin(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    policy = BudgetPolicy(
        shapes={"writes": SHAPE, "deletes": SHAPE},
        horizons={"interactive": 60.0, "bulk": 2.0, "bulk_finish": 1.0, "deletes": 60.0},
        block=1,
        grace=5.0,
    )
    shared = FleetWriteBudget(BudgetStore(table), policy, clock=clock)
    for _ in range(10 + 30):  # the burst, then 1.5 s of the rate: the bucket is booked 1.5 s ahead
        assert shared.reserve(SUB, "bulk", 1).not_before is not None
    finishing = shared.reserve(SUB, "bulk_finish", 1)
    assert finishing.retry_at == pytest.approx(clock.now + 0.5)  # when only its 1 s is booked ahead
    assert shared.reserve(SUB, "bulk", 1).not_before == pytest.approx(clock.now + 1.5 + 1 / 20)  # begins go first
    clock.now += 0.7  # the next token is 0.9 s ahead now
    assert shared.reserve(SUB, "bulk_finish", 1).not_before is not None  # the queue is shallow again: it fits


def test_the_finishing_lane_reaches_half_as_far_as_the_bulk_lane() -> None:
    from controlplane.arm.budgets import budget_policy
    from controlplane.settings import load_settings

    horizons = budget_policy(
        load_settings({"CP_SUBSCRIPTION_ID": SUB, "AzureWebJobsStorage": "UseDevelopmentStorage=true"})
    ).horizons
    assert horizons["bulk_finish"] == horizons["bulk"] / 2 < horizons["interactive"]


def test_an_instance_that_dies_loses_only_its_lease_and_the_bucket_refills_on_its_own(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    doomed = budget(table, clock, block=5)
    doomed.reserve(SUB, "interactive", 1)  # leased 5, spent 1, then the instance is gone
    survivor = budget(table, clock, block=1)
    starts = [survivor.reserve(SUB, "interactive", 1).not_before for _ in range(6)]
    assert starts[:5] == pytest.approx([clock.now] * 5)  # 10 - 5 leased
    assert starts[5] == pytest.approx(clock.now + 1 / 20)
    clock.now += 10  # no operator: time refills the bucket
    assert survivor.reserve(SUB, "interactive", 1).not_before == clock.now


def test_a_lease_serves_many_reservations_for_one_storage_write(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock, block=10)
    for _ in range(10):
        shared.reserve(SUB, "interactive", 1)
    assert shared.store.operations == 2  # one read (nothing cached yet), one conditional write


def test_what_a_lease_cannot_cover_is_carried_into_the_next_not_dropped(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock, block=10)
    starts = [shared.reserve(SUB, "interactive", 4).not_before for _ in range(5)]  # 20 tokens, leases of 10
    assert shared.store.operations == 3  # a read, then two leases: the third step took the first lease's 2
    assert starts[:2] == pytest.approx([clock.now] * 2)
    assert starts[2:] == pytest.approx([clock.now + 10 / 20] * 3)  # the second lease, when 10 more are there
    # Exactly 20 were booked: another instance's next token comes when the bucket has refilled 20 - 10 + 1.
    other = budget(table, clock, block=1)
    assert other.reserve(SUB, "interactive", 1).not_before == pytest.approx(clock.now + 11 / 20)


def test_a_leftover_is_dropped_once_the_bucket_has_refilled_so_it_never_rides_on_a_fresh_burst(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock, block=10, grace=5)
    shared.reserve(SUB, "interactive", 4)
    shared.reserve(SUB, "interactive", 4)  # 2 left, booked when the bucket was full
    clock.now += 1  # the bucket is full again (10 at 20/s), the lease not yet stale
    starts = [shared.reserve(SUB, "interactive", 4).not_before for _ in range(3)]
    assert starts == pytest.approx([clock.now, clock.now, clock.now + 10 / 20])
    assert shared.store.operations == 4  # the 2 were dropped: 10 new ones served two steps, the third leased again


def test_a_stale_lease_is_not_spent(table) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    shared = budget(table, clock, block=10, grace=5)
    shared.reserve(SUB, "interactive", 1)
    clock.now += 6
    shared.reserve(SUB, "interactive", 1)
    assert shared.store.operations == 3  # the second needed a new lease


def test_processes_racing_for_one_bucket_never_overspend_it(storage_connection: str, table) -> None:  # type: ignore[no-untyped-def]
    """Four instances (processes, each with its own state) reserve 60 tokens each, at once."""
    contenders = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.budget._contender", storage_connection, table.table_name, SUB, "60", "3"],
            stdout=subprocess.PIPE,
            preexec_fn=die_with_parent(),
        )
        for _ in range(4)
    ]
    results = [json.loads(process.communicate(timeout=240)[0]) for process in contenders]
    assert all(process.returncode == 0 for process in contenders)
    starts = sorted(start for result in results for start in result["starts"])
    assert len(starts) == 240
    # Replay ARM's bucket (10 burst, 20/s) over every grant: it must admit each one. Leases that
    # were never spent only make this easier, so count what was granted, not what was leased.
    level, last = SHAPE.burst, starts[0]
    for start in starts:
        level = min(SHAPE.burst, level + (start - last) * SHAPE.rate)
        last = start
        level -= 1
        assert level >= -1e-6
    operations = sum(result["operations"] for result in results)
    assert operations < 240  # leases of 3: well under one storage operation per reservation
