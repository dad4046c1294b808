"""A loopback TCP proxy that can hold one request: Table Storage answering one request slowly."""

from __future__ import annotations

import threading

from sandbox.outage import Door


class SlowProxy(Door):
    """Forwards every connection to ``upstream_port``; holds every request containing ``marker`` until released
    (a client's retry of the held request is held too)."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port)
        self.marker: bytes | None = None
        self.holding = threading.Event()  # the marked request has arrived and is being held
        self.released = threading.Event()

    def start(self) -> SlowProxy:
        self.open()
        return self

    def hold(self, marker: bytes) -> None:
        self.marker = marker

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        self.shut()

    def passing(self, chunk: bytes, *, toward_service: bool) -> None:
        if toward_service and self.marker is not None and self.marker in chunk:
            self.holding.set()
            self.released.wait()
