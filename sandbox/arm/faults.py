"""Scripted misbehaviour: make a named route throttle, fail, conflict, hang or fail its LRO.

Product code must survive what ARM really does under load and in bad weather; these faults are the
few shapes that matter for retry policy (429 and 500 are retried by azure-core itself, 409 and
other 4xx are not) and for long-running operations (an accepted request whose operation ends
Failed). Faults are checked against the route list when injected, so a typo fails loudly instead of
silently never firing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .messages import ArmError
from .routing import LRO_ROUTES, ROUTE_NAMES


class Gate:
    """Holds a "hang" until the test opens it, and tells the test when a request is being held.

    A test that must act while a request is in flight waits for ``entered`` instead of sleeping and
    hoping the request is still hanging: the order is guaranteed, however busy the machine.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def hold(self, stopping: threading.Event) -> None:
        self.entered.set()
        while not self.opened.wait(0.05) and not stopping.is_set():
            pass

    def open(self) -> None:
        self.opened.set()


KINDS = ("429", "500", "409", "lro_failed", "hang", "error")


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour of one route.

    ``times`` is how many matching requests it spoils (None: all of them). ``retry_after`` is the
    429's Retry-After in seconds (azure-core treats 0 as "no hint" and falls back to its backoff).
    ``seconds`` is how long a "hang" sleeps before answering normally; with ``gate`` it instead holds
    until the test opens the gate. ``status``/``code``/``message``
    shape the error of "error" (required there) and override the defaults of the other kinds.
    """

    route: str
    kind: str
    times: int | None = 1
    retry_after: int = 1
    seconds: float = 0.0
    status: int | None = None
    code: str | None = None
    message: str | None = None
    subscription: str | None = None
    gate: Gate | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.route not in ROUTE_NAMES:
            raise ValueError(f"unknown route {self.route!r}; known: {sorted(ROUTE_NAMES)}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {KINDS}")
        if self.kind == "lro_failed" and self.route not in LRO_ROUTES:
            raise ValueError(f"{self.route} never answers with an LRO; lro_failed fits {sorted(LRO_ROUTES)}")
        if self.kind == "error" and (self.status is None or self.code is None):
            raise ValueError("an 'error' fault needs status= and code=")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1, or None for forever")

    def matches(self, route: str, subscription: str) -> bool:
        if route != self.route:
            return False
        return self.subscription is None or self.subscription.lower() == subscription.lower()

    def error(self) -> ArmError:
        """The error this fault answers with (for lro_failed: the one its operation ends with)."""
        status, code, message = _DEFAULTS[self.kind]
        headers = {"Retry-After": str(self.retry_after)} if self.kind == "429" else None
        return ArmError(
            self.status or status,
            self.code or code,
            self.message or message,
            headers=headers,
        )


# kind -> (status, code, message); the codes are the ones ARM uses for these situations.
_DEFAULTS: dict[str, tuple[int, str, str]] = {
    "429": (
        429,
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type. "
        "Please retry after the number of seconds in the Retry-After header.",
    ),
    "500": (500, "InternalServerError", "Encountered internal server error. Please try again."),
    "409": (
        409,
        "AnotherOperationInProgress",
        "Another operation on this or a dependent resource is in progress. Retry the operation later.",
    ),
    # Asynchronous failures surface on the operation URL; 400 keeps azure-core from retrying the
    # poll as it would a 5xx, and is what ARM's Location contract allows for a failed operation.
    "lro_failed": (400, "ProvisioningFailed", "The asynchronous operation failed."),
    "hang": (200, "", ""),
    "error": (400, "BadRequest", "The request is invalid."),
}


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None


@dataclass
class FaultBook:
    """The faults in force, first injected first served; thread-safe."""

    _armed: list[_Armed] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(_Armed(fault, fault.times))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, route: str, subscription: str) -> Fault | None:
        """The first fault that matches, counted as used; None when the request should go through."""
        with self._lock:
            for armed in self._armed:
                if not armed.fault.matches(route, subscription):
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed.remove(armed)
                return armed.fault
            return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [armed.fault for armed in self._armed]
