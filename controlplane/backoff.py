"""Jittered back-off for optimistic-concurrency retries (ETag races in Table Storage)."""

from __future__ import annotations

import random
import time


def back_off(attempt: int) -> None:
    # Full jitter: writers that collided spread out instead of colliding again in lockstep.
    time.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))
