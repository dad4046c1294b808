"""The fleet-wide ARM budget as one instance sees it: lanes, and small leases of tokens.

On Azure the control plane scales out (Flex: up to 100+ instances, each running many activities),
and ARM's buckets are per subscription, not per instance. So the budget lives in Table Storage
(``controlplane.registry.arm_budget``), shared by every instance, and an orchestration reserves its
next step's requests there *before* the step runs, then waits for them on a durable timer: no
activity, and no instance, sits asleep waiting for tokens.

Four lanes share a subscription's two buckets:

- ``interactive`` (creates, single-twin updates) and ``bulk`` (rollout waves) draw on the *writes*
  bucket. Bulk may reserve only a short way ahead (its horizon), interactive much further, so a
  rollout never has more than ``bulk_horizon`` seconds of the bucket booked when a single-twin
  request arrives: that request waits at most about that long behind it.
- ``bulk_finish``: the steps that finish a rollout twin already begun (its publish, after the 20 s
  site PUT) book only half as far ahead as ``bulk``. While twins wait to begin, the queue stays
  deeper than that, so they go first: a wave's last site PUTs then run while finishing work still
  queues behind them, rather than with ARM idle at the wave's end. A refused booking asks again
  (``retry_at``) until it fits: one bucket, two depths of queue.
- ``deletes`` draw on ARM's separate deletes bucket, so teardowns are never queued behind creates.

Storage traffic stays small next to the ARM requests it guards: an instance leases ``block`` tokens
at a time and hands them to its own reservations until they run out or go stale (``grace``). An
instance that dies holding a lease loses exactly that lease; the bucket refills on its own, so
nothing needs an operator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from controlplane.domain.write_budget import BucketShape, Refusal
from controlplane.registry.arm_budget import BudgetStore

LANE_BUCKETS = {"interactive": "writes", "bulk": "writes", "bulk_finish": "writes", "deletes": "deletes"}


@dataclass(frozen=True)
class Grant:
    """``not_before``: when the reserved requests may go (epoch seconds); or ``retry_at``: ask again then."""

    not_before: float | None = None
    retry_at: float | None = None


@dataclass
class _Lease:
    tokens: int
    usable_at: float
    stale_at: float


@dataclass(frozen=True)
class BudgetPolicy:
    shapes: dict[str, BucketShape]  # by bucket: "writes", "deletes"
    horizons: dict[str, float]  # by lane
    block: int
    grace: float


class FleetWriteBudget:
    def __init__(self, store: BudgetStore, policy: BudgetPolicy, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self._leases: dict[tuple[str, str], _Lease] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def reserve(self, subscription_id: str, lane: str, count: int, *, horizon: float | None = None) -> Grant:
        """Reserve ``count`` requests of ``lane`` in ``subscription_id``'s bucket."""
        bucket = LANE_BUCKETS[lane]
        key = (subscription_id.lower(), lane)
        with self._lock_for(key):
            now = self.clock()
            lease = self._leases.get(key)
            if lease is not None and now >= lease.stale_at:
                lease = None  # gone stale: its tokens were booked long ago and are not spent now
            if lease is not None and lease.tokens >= count:
                lease.tokens -= count
                return Grant(not_before=lease.usable_at)
            leftover = lease.tokens if lease is not None else 0
            shape = self.policy.shapes[bucket]
            size = int(min(shape.burst, max(count, self.policy.block)))
            decision = self.store.reserve(
                subscription_id, bucket, size, now=now, shape=shape,
                horizon=self.policy.horizons[lane] if horizon is None else horizon,
            )  # fmt: skip
            if isinstance(decision, Refusal):
                return Grant(retry_at=decision.retry_at)
            # Too few left for this step: while the bucket is booked ahead (the new lease starts later
            # than now) the rest joins the new lease rather than being dropped (dropping it wasted
            # about a tenth of the budget, steps asking 1 to 6 tokens of 10); they go later than they
            # were booked for, into a queue, never into a full bucket. Once the bucket has had tokens
            # to spare, it may have refilled since they were booked: spent beside a fresh burst they
            # could pass ARM's, so then they are dropped.
            carried = leftover if decision.start > now else 0
            self._leases[key] = _Lease(carried + size - count, decision.start, decision.start + self.policy.grace)
            return Grant(not_before=decision.start)

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())
