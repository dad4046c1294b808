"""The ARM stand-in in its own process, so the benchmark's CPU clock counts only the control plane.

Time is compressed by ``speed``: operation latencies are divided by it and the throttle's token
buckets refill ``speed`` times faster, so ARM's walls (10 writes/s per subscription, ...) keep
their shape in a run that takes a fraction of the real time.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any


def _serve(conn: Connection, latency: dict[str, float], speed: float, web_puts: str = "sync") -> None:
    from sandbox.arm import ArmStandIn, Throttle

    origin = time.monotonic()

    def scaled_clock() -> float:
        return origin + (time.monotonic() - origin) * speed

    write_times: list[float] = []

    class RecordingThrottle(Throttle):
        """The stand-in's own throttle, noting when each write was admitted (for the bench's timeline)."""

        def admit(self, **request: Any) -> Any:
            admission = super().admit(**request)
            if admission.allowed and self.category(request["method"]) == "writes":
                write_times.append(scaled_clock() - origin)
            return admission

    arm = ArmStandIn(
        latency=latency, latency_scale=1 / speed, throttle=RecordingThrottle(clock=scaled_clock), web_puts=web_puts
    ).start()
    conn.send((arm.base_url, arm.ca_path))
    while True:
        command = conn.recv()
        if command == "stats":
            requests = arm.requests
            conn.send({
                "by_method": dict(Counter(r.method for r in requests)),
                "by_subscription_writes": dict(Counter(r.path.split("/")[2] for r in requests if r.method in ("PUT", "POST", "DELETE"))),
                "throttled": sum(arm.throttled.values()),
                # A refused request takes no token, so the throttles' bound counts only admitted ones.
                "throttled_by_method": dict(Counter(r.method for r in requests if r.status == 429)),
                "requests": len(requests),
                # Writes admitted per 50 simulated seconds: where the writes bucket sat idle.
                "writes_per_50s": _histogram(write_times, 50.0),
                "writes_per_10s": _histogram(write_times, 10.0),
            })  # fmt: skip
        elif command == "sites":
            conn.send(
                [rid.rsplit("/", 1)[1] for rid in arm.resources if "/providers/microsoft.web/sites/" in rid.lower()]
            )
        else:
            arm.stop()
            conn.send("stopped")
            return


def _histogram(times: list[float], width: float) -> list[int]:
    counts: list[int] = []
    for moment in times:
        slot = int(moment // width)
        counts.extend([0] * (slot + 1 - len(counts)))
        counts[slot] += 1
    return counts


class RemoteArm:
    """What ControlPlaneRig needs of an ARM stand-in (start, stop, base_url, ca_path), one process away."""

    def __init__(self, latency: dict[str, float], speed: float, *, web_puts: str = "sync") -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, latency, speed, web_puts), daemon=True)
        self.base_url = self.ca_path = ""
        self._lock = threading.Lock()  # one conversation on the pipe at a time

    def start(self) -> RemoteArm:
        self._process.start()
        self.base_url, self.ca_path = self._conn.recv()
        return self

    def _ask(self, command: str) -> Any:
        with self._lock:
            self._conn.send(command)
            return self._conn.recv()

    def stats(self) -> dict[str, Any]:
        return self._ask("stats")

    @property
    def resources(self) -> dict[str, Any]:
        # Only what BrainstemHosts asks: which sites exist.
        return {f"/providers/microsoft.web/sites/{name}": {} for name in self._ask("sites")}

    def stop(self) -> None:
        if self._process.is_alive():
            self._ask("stop")
            self._process.join(10)
