"""Pace ARM writes per subscription so a busy fleet runs near ARM's limit without a 429 storm.

ARM refills each subscription's write bucket at 10 requests/s (200 burst). When hundreds of twins
provision at once, sending every PUT as soon as it is ready empties the bucket, and azure-core's
retries on 429 then hammer it further. A token bucket here, in front of the SDK, spends a little
less than ARM grants (CP_ARM_WRITES_PER_SECOND, CP_ARM_WRITE_BURST), so requests wait their turn
in this process instead of being refused. It is an azure-core pipeline policy: every management
client built in controlplane.arm.clients goes through it, and no activity has to remember it.
The budget is per process; with several instances, divide the rate between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from controlplane.telemetry.metrics import budget_waited

_WRITES = frozenset({"PUT", "POST", "PATCH", "DELETE"})
# A write that would wait longer than this is refused here (a transient error: the durable retry
# comes back later) rather than holding an activity near the Consumption timeout.
MAX_WAIT_SECONDS = 60.0


@dataclass
class TokenBucket:
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


class SubscriptionWriteBudget(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Waits before each write request until the subscription's budget has a token for it."""

    def __init__(self, bucket: TokenBucket, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.bucket = bucket
        self._sleep = sleep

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        if request.http_request.method.upper() not in _WRITES:
            return
        wait = self.bucket.reserve(max_wait=MAX_WAIT_SECONDS)
        if wait is None:
            raise ServiceResponseTimeoutError(
                f"the subscription's ARM write budget is over {MAX_WAIT_SECONDS:.0f}s behind; retry later"
            )
        budget_waited(wait)  # telemetry's hook: the time this write waited
        if wait > 0:
            self._sleep(wait)
