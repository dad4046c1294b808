"""Hand-built orchestration histories, replayed through the Durable SDK's real handle (no driver, no threads).

The Durable Python SDK tests its own orchestrators this way (Azure/azure-functions-durable-python,
tests/orchestrator/orchestrator_test_utils.py and tests/test_utils/ContextBuilder.py): write the
history the extension would send, run one replay, check the actions the orchestrator asks for next.
Each test is a few milliseconds and independent of any clock; the full-rig tests in tests/workflows
still run the same orchestrators end to end.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from controlplane.domain.durable_names import Activity
from sandbox.durable import history as h
from sandbox.durable.functions import OrchestratorFailed
from sandbox.worker import app_durable_functions

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def booking_for(activity: str, job: dict[str, Any], *, lane: str | None = None) -> dict[str, Any]:
    """What an orchestration asks ``reserve_arm_writes`` for before ``activity`` (orchestrators.steps.arm_requests)."""
    from orchestrators.steps import arm_requests

    default = "deletes" if activity == Activity.BEGIN_DELETE_RESOURCE_GROUP else job.get("arm_lane", "interactive")
    return {"subscription_id": job["subscription_id"], "lane": lane or default, "count": arm_requests(activity, job)}


def step_input(job: dict[str, Any], grant: Any = None, beside: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an ARM step is called with once booked: the job carrying its grant, alone or beside other fields."""
    granted = {**job, "arm_grant": grant}
    return granted if beside is None else {"job": granted, **beside}


@dataclass
class Replay:
    """What one replay returned: the actions of this episode, done or not, output, custom status."""

    state: dict[str, Any]

    @property
    def done(self) -> bool:
        return bool(self.state.get("isDone"))

    @property
    def output(self) -> Any:
        return self.state.get("output")

    @property
    def custom_status(self) -> Any:
        return self.state.get("customStatus")

    @property
    def error(self) -> str | None:
        return self.state.get("error")

    def _actions(self) -> list[dict[str, Any]]:
        """Every leaf action; schema V2 wraps this episode's new ones in compound actions."""
        leaves: list[dict[str, Any]] = []
        pending = [a for group in self.state.get("actions", []) for a in group]
        while pending:
            action = pending.pop(0)
            if action.get("compoundActions"):
                pending[:0] = action["compoundActions"]
            else:
                leaves.append(action)
        return leaves

    def scheduled(self) -> list[tuple[str, Any]]:
        """(activity name, decoded input) of every activity call among the actions, in order."""
        return [
            (a["functionName"], json.loads(a["input"]) if isinstance(a.get("input"), str) else a.get("input"))
            for a in self._actions()
            if "functionName" in a
        ]

    def timers(self) -> list[str]:
        return [a["fireAt"] for a in self._actions() if "fireAt" in a]


@dataclass
class History:
    """Events appended as the extension would write them; ``replay()`` runs the orchestrator on them."""

    orchestrator: str
    input: Any
    now: dt.datetime = START
    events: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 0

    def __post_init__(self) -> None:
        self.events += [
            h.orchestrator_started(self.now),
            h.execution_started(
                self.now,
                name=self.orchestrator,
                instance_id="inst",
                execution_id="exec",
                input_text=json.dumps(self.input),
            ),
        ]

    def _episode(self, *events: dict[str, Any]) -> None:
        self.events += [h.orchestrator_completed(self.now), h.orchestrator_started(self.now), *events]

    def activity(self, name: str, payload: Any, result: Any, *, seconds: float = 1) -> History:
        """The orchestrator scheduled ``name``; it completed with ``result`` ``seconds`` later."""
        task_id = self._take_id()
        self.events.append(h.task_scheduled(self.now, task_id=task_id, name=name, input_text=json.dumps(payload)))
        self.now += dt.timedelta(seconds=seconds)
        self._episode(h.task_completed(self.now, task_id=task_id, result=json.dumps(result)))
        return self

    def arm_step(
        self, name: str, payload: dict[str, Any], result: Any, *, booked: dict[str, Any] | None = None,
        beside: dict[str, Any] | None = None, **booking: Any,
    ) -> History:  # fmt: skip
        """An ARM step: its requests booked (``reserve_arm_writes`` answering ``booked``), then the step with the grant.

        ``beside``: the step takes ``{"job": payload, **beside}`` (orchestrators.steps.call_arm_step's beside_job)."""
        self.activity(Activity.RESERVE_ARM_WRITES, booking_for(name, payload, **booking), booked or {})
        return self.activity(name, step_input(payload, (booked or {}).get("grant"), beside), result)

    def build_step(
        self, name: str, payload: dict[str, Any], result: Any, *, beside: dict[str, Any] | None = None
    ) -> History:
        """An ARM step as ``call_arm_step`` runs it: booked first, unless it sends no ARM write (nothing to book)."""
        from orchestrators.steps import arm_requests

        if arm_requests(name, payload) == 0:
            return self.activity(name, step_input(payload, None, beside), result)
        return self.arm_step(name, payload, result, beside=beside)

    def activity_failed(self, name: str, payload: Any, reason: str, retry_after_seconds: float | None) -> History:
        """One failed attempt, and the retry timer then set (None: the last attempt, no timer follows)."""
        task_id = self._take_id()
        self.events.append(h.task_scheduled(self.now, task_id=task_id, name=name, input_text=json.dumps(payload)))
        self._episode(h.task_failed(self.now, task_id=task_id, reason=reason, details=reason))
        return self if retry_after_seconds is None else self.timer(retry_after_seconds)

    def timer(self, seconds: float) -> History:
        timer_id = self._take_id()
        fire_at = self.now + dt.timedelta(seconds=seconds)
        self.events.append(h.timer_created(self.now, timer_id=timer_id, fire_at=fire_at))
        self.now = fire_at
        self._episode(h.timer_fired(self.now, timer_id=timer_id, fire_at=fire_at))
        return self

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def replay(self) -> Replay:
        events = [dict(e, IsPlayed=False) for e in self.events]
        context = {
            "history": events,
            "instanceId": "inst",
            "isReplaying": False,
            "parentInstanceId": None,
            "input": self.input,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
        }
        try:  # through Microsoft's worker, as the extension invokes an orchestrator
            text = app_durable_functions().replay(self.orchestrator, json.dumps(context), instance_id="inst")
        except OrchestratorFailed as failed:  # the state rides in the failure, as the extension reads it
            assert failed.state_json is not None, failed.message
            text = failed.state_json
        return Replay(json.loads(text))
