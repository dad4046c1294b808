"""Time for the local Durable runtime: virtual in tests, real (optionally sped up) in the sandbox.

Durable timers are the one place the runtime has to wait. Tests must not sleep, so they use a
``VirtualClock`` that jumps to a timer's due time the moment the timer is armed. The offline sandbox
wants the real pacing of a provisioning run, possibly compressed, so it uses a ``WallClock`` whose
``speed`` makes one real second count as ``speed`` orchestration seconds.

A clock never blocks the caller: ``call_at`` hands the callback to the clock, which runs it when the
time comes (at once for the virtual clock, from one scheduler thread for the wall clock). That keeps a
thousand orchestrations waiting on timers from holding a thousand threads.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol

UTC = dt.UTC

#: Where a fresh virtual clock starts: fixed, so histories and ``current_utc_datetime`` repeat run to run.
DEFAULT_VIRTUAL_START = dt.datetime(2030, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """What the driver needs from time."""

    def now(self) -> dt.datetime:
        """The current orchestration time (timezone-aware, UTC)."""
        ...

    def call_at(self, when: dt.datetime, callback: Callable[[], None]) -> None:
        """Run ``callback`` once ``now() >= when``; never block the caller."""
        ...


class VirtualClock:
    """Time that only moves when a timer is armed: arming a timer advances to its due time and fires it."""

    def __init__(self, start: dt.datetime = DEFAULT_VIRTUAL_START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            self._now += delta

    def call_at(self, when: dt.datetime, callback: Callable[[], None]) -> None:
        with self._lock:
            if when > self._now:
                self._now = when
        callback()


class HeldClock(VirtualClock):
    """A ``VirtualClock`` that holds long timers: one due more than ``hold_beyond`` ahead waits until the
    test moves time on with ``advance``. Short timers (polls, retry back-offs) still fire at once.

    For a wait the test must act inside (a soft delete's grace period: restore before it ends), without
    sleeping. Starts at the real time, as the API's own timestamps do (``delete_at``).
    """

    def __init__(self, *, hold_beyond: dt.timedelta = dt.timedelta(hours=1), start: dt.datetime | None = None) -> None:
        super().__init__(start or dt.datetime.now(UTC))
        self.hold_beyond = hold_beyond
        self._held: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def call_at(self, when: dt.datetime, callback: Callable[[], None]) -> None:
        with self._lock:
            if when - self._now > self.hold_beyond:
                heapq.heappush(self._held, (when, next(self._order), callback))
                return
        super().call_at(when, callback)

    def advance(self, delta: dt.timedelta) -> None:
        """Move time on and fire every held timer now due, in due order."""
        with self._lock:
            self._now += delta
            due = []
            while self._held and self._held[0][0] <= self._now:
                due.append(heapq.heappop(self._held)[2])
        for callback in due:
            callback()


class WallClock:
    """Real time, optionally sped up; timers fire from a single scheduler thread.

    ``speed=60`` makes a one-minute Durable timer wait one real second. ``now()`` then runs ahead of the
    wall clock at the same rate, so ``current_utc_datetime`` and timer due times stay consistent.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_wall = dt.datetime.now(UTC)
        self._origin_monotonic = time.monotonic()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def now(self) -> dt.datetime:
        elapsed = time.monotonic() - self._origin_monotonic
        return self._origin_wall + dt.timedelta(seconds=elapsed * self.speed)

    def call_at(self, when: dt.datetime, callback: Callable[[], None]) -> None:
        delay_real = max(0.0, (when - self.now()).total_seconds() / self.speed)
        with self._condition:
            if self._closed:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay_real, next(self._sequence), callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="durable-wall-clock", daemon=True)
                self._thread.start()
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._heap.clear()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._condition.wait(timeout)
                if self._closed:
                    return
                _, _, callback = heapq.heappop(self._heap)
            callback()
