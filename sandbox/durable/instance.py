"""The state the driver keeps per orchestration instance, and the snapshots it hands out.

An ``Instance`` is what the Durable extension keeps in its task hub (history, status, output) plus the
driver's in-memory bookkeeping that a real host would lose in a crash (inbox, which tasks were already
dispatched, which timers armed). ``OrchestrationResult`` is an immutable copy safe to give to tests and
to the HTTP API while episodes keep running.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from typing import Any

from sandbox.durable.history import Event

TERMINAL = frozenset({"Completed", "Failed", "Terminated"})
START = "start"  # inbox marker: run an episode even though no event arrived


@dataclasses.dataclass(frozen=True)
class ActivityExecution:
    """One call of an activity's user function (a redelivered task appears twice)."""

    instance_id: str
    name: str
    input: Any
    task_id: int
    attempt: int
    succeeded: bool | None = None


@dataclasses.dataclass(frozen=True)
class OrchestrationResult:
    """A snapshot of one instance; ``run``/``resume`` return it once the instance is terminal (or crashed)."""

    instance_id: str
    name: str
    status: str  # Pending | Running | Completed | Failed | Terminated
    output: Any
    error: str | None
    custom_status: Any
    history: list[Event]
    input_wire: Any  # the input as the extension holds it: the JSON text the Python client sent, or None
    created_time: dt.datetime
    last_updated_time: dt.datetime
    crashed: bool = False
    # The most events any one execution of this instance held (continue_as_new starts a new one):
    # what Durable's storage must load on each replay, so what a long workflow must keep bounded.
    largest_history: int = 0

    @property
    def input(self) -> Any:
        return json.loads(self.input_wire) if isinstance(self.input_wire, str) else self.input_wire


@dataclasses.dataclass(eq=False)
class Instance:
    instance_id: str
    name: str
    input_wire: Any
    created_time: dt.datetime
    crash_after: int | None
    history: list[Event] = dataclasses.field(default_factory=list)
    status: str = "Pending"
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    last_updated_time: dt.datetime | None = None
    crashed: bool = False
    generation: int = 0
    largest_history: int = 0
    inbox: list[Any] = dataclasses.field(default_factory=lambda: [START])
    busy: bool = False
    dispatched: set[int] = dataclasses.field(default_factory=set)
    armed: set[int] = dataclasses.field(default_factory=set)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL or self.crashed

    def snapshot(self) -> OrchestrationResult:
        with self.lock:
            return OrchestrationResult(
                instance_id=self.instance_id,
                name=self.name,
                status=self.status,
                output=self.output,
                error=self.error,
                custom_status=self.custom_status,
                history=[dict(event) for event in self.history],
                input_wire=self.input_wire,
                created_time=self.created_time,
                last_updated_time=self.last_updated_time or self.created_time,
                crashed=self.crashed,
                largest_history=max(self.largest_history, len(self.history)),
            )
