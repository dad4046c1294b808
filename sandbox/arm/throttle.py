"""ARM's request throttling, modelled as the token buckets Microsoft documents.

A fleet of twins is provisioned against one subscription, so the product's real ceiling is ARM's
throttling, not its own code. Microsoft documents the algorithm: per subscription (and region),
a bucket per kind of request — writes 200 refilled at 10/s, deletes 200 at 10/s, reads 250 at 25/s —
answering 429 with Retry-After when empty and reporting what is left in
``x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}``. The Storage provider adds its own
limit on top: 10 writes per second and 1,200 per hour per subscription and region; the hourly limit
is modelled as a bucket of 1,200 refilled at 1,200/3,600 per second.

ARM takes the token before it routes a request: "If the request is under the throttling limits
for the subscription and tenant, Resource Manager routes the request to the resource provider"
(Learn, same page). So a write the provider then answers 404 (a settings-list POST for a site not
yet made) has still spent one, and the stand-in counts it the same way: the bucket is asked first.

Off by default. The clock is injectable so the buckets themselves can be tested without sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

_CATEGORY_BY_METHOD = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}


@dataclass
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill_per_second)
        self.updated_at = now

    def seconds_until_token(self) -> int:
        """Whole seconds (at least 1, as ARM sends) until one token is back."""
        missing = max(0.0, 1.0 - self.tokens)
        return max(1, math.ceil(missing / self.refill_per_second))


@dataclass(frozen=True)
class Admission:
    allowed: bool
    retry_after: int
    headers: dict[str, str]


class Throttle:
    """Token buckets per subscription (and per subscription+region for Storage writes)."""

    def __init__(
        self,
        *,
        writes: tuple[float, float] = (200, 10.0),
        deletes: tuple[float, float] = (200, 10.0),
        reads: tuple[float, float] = (250, 25.0),
        storage_writes_per_second: float = 10,
        storage_writes_per_hour: float = 1200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shapes = {"writes": writes, "deletes": deletes, "reads": reads}
        self._storage_shapes = {
            "storage_second": (storage_writes_per_second, float(storage_writes_per_second)),
            "storage_hour": (storage_writes_per_hour, storage_writes_per_hour / 3600.0),
        }
        self._clock = clock
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._rejections: Counter[str] = Counter()
        self._lock = threading.Lock()

    @staticmethod
    def category(method: str) -> str:
        # ARM counts POST actions (listKeys, restart) as writes.
        return _CATEGORY_BY_METHOD.get(method.upper(), "writes")

    def admit(self, *, subscription: str, method: str, route: str, storage_region: str | None = None) -> Admission:
        """Take a token from every bucket the request draws on, or none of them and say how long to wait.

        ``storage_region`` is given for writes to the Storage provider, which also draw on that
        provider's per-region buckets.
        """
        category = self.category(method)
        subscription = subscription.lower()
        with self._lock:
            now = self._clock()
            buckets = [self._bucket((subscription, category), self._shapes[category], now)]
            if storage_region is not None:
                for name, shape in self._storage_shapes.items():
                    key = (subscription, storage_region.lower(), name)
                    buckets.append(self._bucket(key, shape, now))
            empty = [bucket for bucket in buckets if bucket.tokens < 1.0]
            if not empty:
                for bucket in buckets:
                    bucket.tokens -= 1.0
            else:
                self._rejections[route] += 1
            headers = {f"x-ms-ratelimit-remaining-subscription-{category}": str(int(buckets[0].tokens))}
            retry_after = max((bucket.seconds_until_token() for bucket in empty), default=0)
            return Admission(allowed=not empty, retry_after=retry_after, headers=headers)

    def remaining(self, subscription: str, category: str) -> int:
        with self._lock:
            bucket = self._bucket((subscription.lower(), category), self._shapes[category], self._clock())
            return int(bucket.tokens)

    def rejections(self) -> dict[str, int]:
        """429s answered by the buckets, per route (for benchmarks)."""
        with self._lock:
            return dict(self._rejections)

    def _bucket(self, key: tuple[str, ...], shape: tuple[float, float], now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            capacity, rate = shape
            bucket = self._buckets[key] = TokenBucket(capacity, rate, float(capacity), now)
        else:
            bucket.refill(now)
        return bucket
