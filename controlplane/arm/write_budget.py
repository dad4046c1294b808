"""Every ARM write and delete is paid for from the subscription's budget before it is sent.

ARM refills each subscription's write and delete buckets at 10 requests/s (200 burst). The fleet-wide
budget (``fleet_budget``) keeps a copy of them, a little smaller, shared by every instance. Most
requests are paid for ahead: the orchestration reserved them for the step (``reserve_arm_writes``)
and waited on a durable timer, and the activity runs inside ``spending(grant)``. This azure-core
pipeline policy, which every management client in ``controlplane.arm.clients`` carries, spends that
grant first; a request nobody reserved (a retry, a step that needed more than it booked) is paid for
here, from the same shared budget, waiting at most ``MAX_WAIT_SECONDS`` in the activity.

``CP_ARM_WRITE_BUDGET=process`` keeps the budget in each process instead (the old design, kept so
the benchmark can show what it costs once the platform runs several instances).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from controlplane.telemetry.metrics import budget_waited

_WRITES = frozenset({"PUT", "POST", "PATCH"})
# A request that would wait longer than this is refused here (a transient error: the durable retry
# comes back later) rather than holding an activity near the Consumption timeout.
MAX_WAIT_SECONDS = 60.0


def bucket_of(method: str) -> str | None:
    """Which of ARM's buckets a request draws on: writes, deletes, or none (reads are not budgeted)."""
    method = method.upper()
    return "deletes" if method == "DELETE" else "writes" if method in _WRITES else None


@dataclass
class _Prepaid:
    subscription_id: str
    bucket: str
    remaining: int
    stale_at: float


_prepaid: ContextVar[_Prepaid | None] = ContextVar("arm_prepaid", default=None)


@contextmanager
def spending(grant: dict[str, Any] | None) -> Iterator[None]:
    """Run an activity's ARM calls on the requests its orchestration reserved (``grant``), if any.

    A grant is good until ``stale_at`` (budget clock): a retry of the step long after it pays again.
    """
    if not grant or not grant.get("count"):
        yield
        return
    prepaid = _Prepaid(grant["subscription_id"].lower(), grant["bucket"], int(grant["count"]), float(grant["stale_at"]))
    token = _prepaid.set(prepaid)
    try:
        yield
    finally:
        _prepaid.reset(token)


def _spend_prepaid(subscription_id: str, bucket: str, now: float) -> bool:
    prepaid = _prepaid.get()
    if prepaid is None or prepaid.remaining < 1 or now > prepaid.stale_at:
        return False
    if prepaid.subscription_id != subscription_id.lower() or prepaid.bucket != bucket:
        return False
    prepaid.remaining -= 1
    return True


# How a request not paid for ahead is paid for: the bucket, then how long to wait (None: too long).
Charge = Callable[[str], float | None]


class _Tally:
    """Writes and deletes this process sent that no step had booked (tests and the bench read it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


unbooked = _Tally()


class SubscriptionWriteBudget(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Pays for each write or delete: from the activity's grant, else from the budget (waiting)."""

    def __init__(
        self,
        subscription_id: str,
        charge: Charge,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.subscription_id = subscription_id
        self._charge = charge
        self._sleep = sleep
        self._clock = clock

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        bucket = bucket_of(request.http_request.method)
        if bucket is None or _spend_prepaid(self.subscription_id, bucket, self._clock()):
            return
        unbooked.add()
        wait = self._charge(bucket)
        if wait is None:
            raise ServiceResponseTimeoutError(
                f"the subscription's ARM {bucket} budget is over {MAX_WAIT_SECONDS:.0f}s behind; retry later"
            )
        budget_waited(wait)  # telemetry's hook: the time this request waited
        if wait > 0:
            self._sleep(wait)


@dataclass
class TokenBucket:
    """A bucket in this process only (``CP_ARM_WRITE_BUDGET=process``)."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _updated: float = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._tokens, self._updated = self.burst, self.clock()

    def reserve(self, max_wait: float = float("inf")) -> float | None:
        """Take one token now or in the future; return how long to wait for it (None: over ``max_wait``, nothing taken)."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            if wait > max_wait:
                return None
            self._tokens -= 1
            return wait
