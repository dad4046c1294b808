"""The one optimistic-concurrency loop: read, decide, write under the ETag; on a lost race, again.

Table Storage has no locks. Every registry write that depends on what it read (a row's lifecycle
move, a capacity set, a count shard) is conditional on the ETag it read (If-Match); a writer that
lost the race re-reads and decides again, after a jittered back-off so that writers that collided
spread out instead of colliding again in lockstep. One helper, so every such write gives up the
same way: a ConcurrentUpdate that says what kept changing and what to do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final, TypeVar

from controlplane.domain.errors import ConcurrentUpdate


class Retry:
    """Returned by an attempt that lost its race (the ETag no longer matched): read and try again."""


RETRY: Final = Retry()
ATTEMPTS = 40
T = TypeVar("T")


def back_off(attempt: int) -> None:
    # Full jitter, capped at half a second: 40 attempts wait at most ~20 s in the worst case.
    time.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))


def with_etag_retries(attempt: Callable[[], T | Retry], *, gave_up: str, **problem_fields: object) -> T:
    """Run ``attempt`` until it returns something other than RETRY; ConcurrentUpdate(gave_up) after ATTEMPTS."""
    for number in range(ATTEMPTS):
        result = attempt()
        if not isinstance(result, Retry):
            return result
        back_off(number)
    raise ConcurrentUpdate(gave_up, **problem_fields)
