"""This process's view of the ARM budget, built from settings: the fleet-wide one, or per process.

``fleet_write_budget()`` is what the ``reserve_arm_writes`` activity books from; ``charge_for()`` is
how an ARM client pays for a request that was not booked ahead (see ``write_budget``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from controlplane.arm.fleet_budget import BudgetPolicy, FleetWriteBudget
from controlplane.arm.write_budget import MAX_WAIT_SECONDS, Charge, TokenBucket
from controlplane.domain.write_budget import BucketShape
from controlplane.registry import default_registry
from controlplane.settings import Settings, get_settings

# The clock the budget's shared state is kept in: epoch seconds, the same on every instance (the
# platform keeps instance clocks in sync; the rates' margin below ARM's absorbs what skew remains).
# The sandbox keeps it in the orchestrations' time, and the benchmark, which compresses time, in
# ARM's: each sets its own clock and the matching way to sleep (set_budget_clock).
_clock: Callable[[], float] = time.time
_sleep: Callable[[float], None] = time.sleep


def budget_clock() -> float:
    return _clock()


def budget_sleep(seconds: float) -> None:
    _sleep(seconds)


def set_budget_clock(clock: Callable[[], float], sleep: Callable[[float], None] = time.sleep) -> None:
    global _clock, _sleep
    _clock, _sleep = clock, sleep


def budget_policy(settings: Settings) -> BudgetPolicy:
    return BudgetPolicy(
        shapes={
            "writes": BucketShape(settings.arm_writes_per_second, settings.arm_write_burst),
            "deletes": BucketShape(settings.arm_deletes_per_second, settings.arm_delete_burst),
        },
        horizons={
            "interactive": settings.arm_budget_horizon_seconds,
            "bulk": settings.arm_budget_bulk_horizon_seconds,
            "bulk_finish": settings.arm_budget_bulk_horizon_seconds / 2,
            "deletes": settings.arm_budget_horizon_seconds,
        },
        block=settings.arm_budget_block,
        grace=settings.arm_budget_grace_seconds,
    )


@functools.lru_cache(maxsize=1)
def fleet_write_budget() -> FleetWriteBudget:
    return FleetWriteBudget(default_registry().arm_budget, budget_policy(get_settings()), clock=budget_clock)


def charge_for(subscription_id: str, settings: Settings) -> Charge:
    """How one client pays for a request nobody booked: seconds to wait, or None when too far behind."""
    if settings.arm_write_budget == "process":
        buckets = {
            "writes": TokenBucket(settings.arm_writes_per_second, settings.arm_write_burst, clock=budget_clock),
            "deletes": TokenBucket(settings.arm_deletes_per_second, settings.arm_delete_burst, clock=budget_clock),
        }
        return lambda bucket: buckets[bucket].reserve(max_wait=MAX_WAIT_SECONDS)

    def from_fleet(bucket: str) -> float | None:
        lane = "deletes" if bucket == "deletes" else "interactive"
        grant = fleet_write_budget().reserve(subscription_id, lane, 1, horizon=MAX_WAIT_SECONDS)
        if grant.not_before is None:
            return None
        return max(0.0, grant.not_before - budget_clock())

    return from_fleet


def reset_budgets() -> None:
    fleet_write_budget.cache_clear()
