"""Run Durable orchestrations in-process through the SDK's real replay code, without the Functions host.

There is no Functions host or Core Tools here, yet the product's orchestrators must be proven
replay-safe and the sandbox must run them. The driver plays the Durable extension: it
keeps each instance's history, replays the orchestrator (context JSON in, state JSON out — the bytes the
extension exchanges with the worker), asks ``replay_plan`` what the extension would schedule, runs
activities in a thread pool, fires timers from a pluggable clock, and appends the completion events for
the next replay. It reaches the app through a ``DurableFunctions`` (``functions.py``): for the product,
Microsoft's Python worker (``sandbox.worker``), so every replay and activity is a real worker invocation.

Episodes of one instance are serialized (one in flight at a time); different instances, and the
activities of one instance (fan-out), run concurrently. No lock is held while user code runs.

For replay-safety tests ``run(..., crash_after_event=K)`` stops an instance once its history holds K
events and returns that history; ``resume(history)`` continues from it as a restarted host would:
work scheduled but not completed is delivered again (at least once), timers are re-armed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.functions._durable_functions import df_dumps

from sandbox.durable import history as h
from sandbox.durable.clock import Clock, VirtualClock
from sandbox.durable.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InstanceNotRunningError,
    InstanceStillRunningError,
)
from sandbox.durable.functions import DirectFunctions, DurableFunctions, OrchestratorFailed
from sandbox.durable.history import Event, EventType
from sandbox.durable.host_limits import BackendPace, HostLimits, SlotMeter
from sandbox.durable.instance import START, ActivityExecution, Instance, OrchestrationResult
from sandbox.durable.replay_plan import CONTINUE_AS_NEW, ScheduledActivity, ScheduledTimer, parse_yields, plan_replay

logger = logging.getLogger(__name__)


class _Crashed(Exception):
    """Raised inside an episode when the instance reaches its crash point."""


class OrchestrationDriver:
    """Host + Durable extension stand-in for one DFApp (see the module docstring)."""

    def __init__(
        self,
        functions: Any,
        *,
        clock: Clock | None = None,
        activity_workers: int = 16,
        orchestrator_workers: int = 4,
        long_timers: bool = True,
        limits: HostLimits | None = None,
    ) -> None:
        # A DurableFunctions (the worker, for the product), or a toy DFApp / its functions, called directly.
        self.functions: DurableFunctions = (
            functions if hasattr(functions, "run_activity") else DirectFunctions(functions)
        )
        self.clock: Clock = clock or VirtualClock()
        self.long_timers = long_timers
        # With ``limits`` the driver is the deployed app: its activity slots are host.json's per-instance
        # throttle × instances, episodes at most its orchestrator slots (and this machine's threads),
        # activities stopped at functionTimeout, every action paced at the backend's rate.
        self.limits = limits
        if limits is not None:
            activity_workers = limits.activity_slots
            orchestrator_workers = min(orchestrator_workers, limits.orchestrator_slots)
        self.backend = BackendPace(limits.backend_actions_per_second if limits else None)
        self.slots = SlotMeter(activity_workers)
        self._activities = ThreadPoolExecutor(activity_workers, thread_name_prefix="durable-activity")
        self._episodes = ThreadPoolExecutor(orchestrator_workers, thread_name_prefix="durable-episode")
        self._instances: dict[str, Instance] = {}
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self.activity_log: list[ActivityExecution] = []
        # The durable client binding handed to activities that declare one (set by DurableClientServer).
        self.client_binding: str | None = None

    # ---- public API -------------------------------------------------------------------------------

    def start(self, orchestrator_name: str, input: Any = None, *, instance_id: str | None = None) -> str:
        """Start an instance in the background and return its id (``client.start_new``)."""
        return self.start_wire(orchestrator_name, None if input is None else df_dumps(input), instance_id=instance_id)

    def start_wire(self, orchestrator_name: str, input_wire: Any, *, instance_id: str | None = None) -> str:
        """Start with the input exactly as the extension receives it (the JSON text the Python client sends)."""
        self.functions.check_orchestrator(orchestrator_name)
        instance = self._new_instance(orchestrator_name, input_wire, instance_id or uuid.uuid4().hex, None, [])
        self._paced(lambda: self._schedule(instance))
        return instance.instance_id

    def run(
        self,
        orchestrator_name: str,
        input: Any = None,
        *,
        instance_id: str | None = None,
        crash_after_event: int | None = None,
        timeout: float = 30.0,
    ) -> OrchestrationResult:
        """Start and wait until the instance is terminal, or has crashed after ``crash_after_event`` events."""
        self.functions.check_orchestrator(orchestrator_name)
        input_wire = None if input is None else df_dumps(input)
        instance = self._new_instance(
            orchestrator_name, input_wire, instance_id or uuid.uuid4().hex, crash_after_event, []
        )
        self._paced(lambda: self._schedule(instance))
        return self.wait(instance.instance_id, timeout=timeout)

    def resume(
        self,
        history: list[Event],
        *,
        orchestrator_name: str | None = None,
        input: Any = None,
        instance_id: str | None = None,
        crash_after_event: int | None = None,
        timeout: float = 30.0,
    ) -> OrchestrationResult:
        """Continue an instance from a saved history, as a host restarted after a crash would."""
        saved = [dict(event) for event in history]
        started = next((e for e in saved if e["EventType"] == EventType.EXECUTION_STARTED), None)
        if started is not None:
            orchestrator_name = started["Name"]
            instance_id = started["OrchestrationInstance"]["InstanceId"]
            input_wire = None if started.get("Input") is None else json.loads(started["Input"])
        else:
            # Nothing durable happened before the crash: the start message is simply delivered again.
            if orchestrator_name is None:
                raise ValueError("orchestrator_name is required when the history has no ExecutionStarted")
            saved, input_wire = [], None if input is None else df_dumps(input)
        instance = self._new_instance(
            orchestrator_name, input_wire, instance_id or uuid.uuid4().hex, crash_after_event, saved
        )
        self._paced(lambda: self._schedule(instance))
        return self.wait(instance.instance_id, timeout=timeout)

    def wait(self, instance_id: str, *, timeout: float = 30.0) -> OrchestrationResult:
        instance = self._get(instance_id)
        if not instance.done.wait(timeout):
            snapshot = instance.snapshot()
            tail = ", ".join(h.describe(e) for e in snapshot.history[-6:])
            raise TimeoutError(f"instance {instance_id} still {snapshot.status} after {timeout}s; last events: {tail}")
        return instance.snapshot()

    def get_status(self, instance_id: str) -> OrchestrationResult:
        return self._get(instance_id).snapshot()

    def list_statuses(self) -> list[OrchestrationResult]:
        with self._lock:
            instances = list(self._instances.values())
        return [instance.snapshot() for instance in instances]

    def terminate(self, instance_id: str, reason: str | None = None) -> None:
        instance = self._get(instance_id)
        with instance.lock:
            if instance.finished:
                raise InstanceNotRunningError(f"instance {instance_id} is already {instance.status}")
            generation = instance.generation
        self._deliver(instance, generation, h.execution_terminated(self.clock.now(), reason=reason))

    def raise_event(self, instance_id: str, event_name: str, data: Any = None) -> None:
        instance = self._get(instance_id)
        with instance.lock:
            if instance.finished:
                raise InstanceNotRunningError(f"instance {instance_id} is already {instance.status}")
            generation = instance.generation
        event = h.event_raised(self.clock.now(), name=event_name, input_text=json.dumps(data))
        self._deliver(instance, generation, event)

    def purge(self, instance_id: str) -> None:
        instance = self._get(instance_id)
        if not instance.finished:
            raise InstanceStillRunningError(f"instance {instance_id} is {instance.status}; only terminal ones purge")
        with self._lock:
            self._instances.pop(instance_id, None)

    def executions(self, name: str | None = None, *, instance_id: str | None = None) -> list[ActivityExecution]:
        with self._log_lock:
            return [
                e
                for e in self.activity_log
                if (name is None or e.name == name) and (instance_id is None or e.instance_id == instance_id)
            ]

    def close(self) -> None:
        """Stop scheduling; activities already running finish (their results are dropped), queued ones don't."""
        self._episodes.shutdown(wait=False, cancel_futures=True)
        self._activities.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> OrchestrationDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- instances and messages -------------------------------------------------------------------

    def _get(self, instance_id: str) -> Instance:
        with self._lock:
            instance = self._instances.get(instance_id)
        if instance is None:
            raise InstanceNotFoundError(f"No instance with ID '{instance_id}' found.")
        return instance

    def _new_instance(
        self, name: str, input_wire: Any, instance_id: str, crash_after: int | None, saved: list[Event]
    ) -> Instance:
        instance = Instance(instance_id, name, input_wire, self.clock.now(), crash_after, history=saved)
        with self._lock:
            existing = self._instances.get(instance_id)
            if existing is not None and not existing.finished:
                raise InstanceAlreadyExistsError(
                    f"An Orchestration instance with the status {existing.status} already exists."
                )
            self._instances[instance_id] = instance
        return instance

    def _schedule(self, instance: Instance) -> None:
        with instance.lock:
            if instance.busy:
                return
            instance.busy = True
        try:
            self._episodes.submit(self._process, instance)
        except RuntimeError:  # closed: the driver is gone, like a stopped host
            pass

    def _paced(self, action: Any) -> None:
        """Run ``action`` (one Durable action) when the backend's rate lets it go out."""
        now = self.clock.now()
        at = self.backend.reserve(now.timestamp())
        if at <= now.timestamp():
            action()
        else:
            self.clock.call_at(now + dt.timedelta(seconds=at - now.timestamp()), action)

    def _deliver(self, instance: Instance, generation: int, message: Any) -> None:
        self._paced(lambda: self._deliver_now(instance, generation, message))

    def _deliver_now(self, instance: Instance, generation: int, message: Any) -> None:
        with instance.lock:
            if instance.generation != generation or instance.finished:
                return  # a completion for a crashed, finished or continued-as-new execution
            instance.inbox.append(message)
        self._schedule(instance)

    def _process(self, instance: Instance) -> None:
        while True:
            with instance.lock:
                if instance.finished or not instance.inbox:
                    instance.busy = False
                    return
                messages, instance.inbox = instance.inbox, []
            try:
                self._episode(instance, [m for m in messages if m != START])
            except _Crashed:
                instance.done.set()
            except Exception as exc:  # a bug in the sandbox itself: fail loudly, never hang a test
                logger.exception("sandbox driver failed on instance %s", instance.instance_id)
                self._finish(instance, "Failed", error=f"sandbox driver error: {exc!r}", record=False)

    # ---- one episode ------------------------------------------------------------------------------

    def _append(self, instance: Instance, event: Event) -> None:
        with instance.lock:
            instance.history.append(event)
            instance.last_updated_time = self.clock.now()
            if instance.crash_after is not None and len(instance.history) >= instance.crash_after:
                instance.crashed = True
                raise _Crashed

    def _episode(self, instance: Instance, messages: list[Event]) -> None:
        past = instance.history
        now = max([self.clock.now()] + [h.parse_time(e["Timestamp"]) for e in past[-1:]])
        completed = next((e for e in past if e["EventType"] == EventType.EXECUTION_COMPLETED), None)
        if completed is not None:  # crashed after completing: only the bookkeeping was lost
            status = completed["OrchestrationStatus"]
            result = json.loads(completed["Result"]) if completed.get("Result") else None
            self._finish(instance, status, output=result, error=result if status == "Failed" else None, record=False)
            return
        past_count = len(past)
        self._append(instance, h.orchestrator_started(now))
        if not any(e["EventType"] == EventType.EXECUTION_STARTED for e in instance.history):
            input_text = None if instance.input_wire is None else json.dumps(instance.input_wire)
            self._append(
                instance,
                h.execution_started(
                    now,
                    name=instance.name,
                    instance_id=instance.instance_id,
                    execution_id=uuid.uuid4().hex,
                    input_text=input_text,
                ),
            )
        with instance.lock:
            instance.status = "Running"
        terminated = next((e for e in past + messages if e["EventType"] == EventType.EXECUTION_TERMINATED), None)
        if terminated is not None:
            if terminated not in past:
                self._append(instance, terminated)
            self._finish(instance, "Terminated", output=terminated.get("Input"))
            return
        for message in messages:
            self._append(instance, message)

        state, error = self._replay(instance, past_count)
        plan = plan_replay(instance.history, state, now=now)
        with instance.lock:
            instance.custom_status = state.get("customStatus")
        failure = plan.nondeterminism or plan.unsupported or error
        if failure is not None:
            self._finish(instance, "Failed", error=f"Orchestrator function '{instance.name}' failed: {failure}")
            return
        if state.get("isDone"):
            actions = [node.leaf.action for node in parse_yields(state) if node.leaf is not None]
            continue_as_new = next((a for a in actions if a["actionType"] == CONTINUE_AS_NEW), None)
            if continue_as_new is not None:
                self._continue_as_new(instance, continue_as_new.get("input"))
            else:
                self._finish(instance, "Completed", output=state.get("output"))
            return
        for event in plan.new_events:
            self._append(instance, event)
        self._append(instance, h.orchestrator_completed(now))
        if not plan.can_progress:
            waiting = "nothing scheduled, no timer, no external event awaited"
            self._finish(instance, "Failed", error=f"Orchestrator function '{instance.name}' is stuck: {waiting}")
            return
        self._dispatch(instance, plan.pending_activities, plan.pending_timers)

    def _replay(self, instance: Instance, past_count: int) -> tuple[dict[str, Any], str | None]:
        with instance.lock:
            events = [dict(event, IsPlayed=index < past_count) for index, event in enumerate(instance.history)]
        context: dict[str, Any] = {
            "history": events,
            "instanceId": instance.instance_id,
            "isReplaying": past_count > 0,
            "parentInstanceId": None,
            "input": instance.input_wire,
            # What the extension sends today (SchemaVersion.V2 / upperSchemaVersionNew V3).
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
        }
        if self.long_timers:  # Azure Storage backend defaults
            context["maximumShortTimerDuration"] = "6.00:00:00"
            context["longRunningTimerIntervalDuration"] = "3.00:00:00"
        try:
            state_json = self.functions.replay(instance.name, json.dumps(context), instance_id=instance.instance_id)
            return json.loads(state_json), None
        except OrchestratorFailed as failure:
            if failure.state_json is None:
                return {"isDone": False, "actions": []}, failure.message
            state = json.loads(failure.state_json)
            return state, state.get("error") or failure.message

    def _dispatch(self, instance: Instance, activities: list[ScheduledActivity], timers: list[ScheduledTimer]) -> None:
        with instance.lock:
            generation = instance.generation
            new_activities = [a for a in activities if a.task_id not in instance.dispatched]
            new_timers = [t for t in timers if t.timer_id not in instance.armed]
            instance.dispatched.update(a.task_id for a in new_activities)
            instance.armed.update(t.timer_id for t in new_timers)
        for activity in new_activities:
            self._paced(lambda a=activity: self._submit_activity(instance, generation, a))
        for timer in new_timers:
            self.clock.call_at(timer.fire_at, lambda t=timer: self._fire_timer(instance, generation, t))

    def _submit_activity(self, instance: Instance, generation: int, activity: ScheduledActivity) -> None:
        try:  # from here to a free slot is the wait for an activity slot
            self._activities.submit(self._execute_activity, instance, generation, activity, self.clock.now())
        except RuntimeError:  # closed
            pass

    def _fire_timer(self, instance: Instance, generation: int, timer: ScheduledTimer) -> None:
        event = h.timer_fired(self.clock.now(), timer_id=timer.timer_id, fire_at=timer.fire_at)
        self._deliver(instance, generation, event)

    def _execute_activity(
        self, instance: Instance, generation: int, activity: ScheduledActivity, queued: dt.datetime
    ) -> None:
        began = self.clock.now()
        self.slots.begin((began - queued).total_seconds())
        timeout = self.limits.function_timeout_seconds if self.limits else None
        settled = threading.Lock()  # taken once: by the result, or by the watchdog at functionTimeout
        if timeout is not None and hasattr(self.clock, "speed"):  # a real clock; a virtual one never waits

            def stop_at_limit() -> None:
                if settled.acquire(blocking=False):
                    self._deliver(instance, generation, self._timed_out(activity, began, timeout))

            self.clock.call_at(began + dt.timedelta(seconds=timeout), stop_at_limit)
        try:
            decoded_input = json.loads(activity.input_text) if activity.input_text is not None else None
        except ValueError:
            decoded_input = activity.input_text
        try:  # an unknown activity fails the task, as in Azure
            result = self.functions.run_activity(
                activity.name,
                activity.input_text,
                instance_id=instance.instance_id,
                client_json=self.client_binding,
            )
            event = h.task_completed(self.clock.now(), task_id=activity.task_id, result=result)
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            details = getattr(exc, "details", None) or "".join(traceback.format_exception(exc))
            event = h.task_failed(self.clock.now(), task_id=activity.task_id, reason=reason, details=details)
        ended = self.clock.now()
        self.slots.end(activity.name, (ended - began).total_seconds())
        if timeout is not None and (ended - began).total_seconds() > timeout:
            event = self._timed_out(activity, began, timeout)
        if not settled.acquire(blocking=False):
            return  # the watchdog already failed it at the limit: its result never reaches the history
        succeeded = event["EventType"] == EventType.TASK_COMPLETED
        record = ActivityExecution(
            instance.instance_id, activity.name, decoded_input, activity.task_id, activity.attempt, succeeded
        )
        with self._log_lock:
            self.activity_log.append(record)
        self._deliver(instance, generation, event)

    def _timed_out(self, activity: ScheduledActivity, began: dt.datetime, timeout: float) -> Event:
        """The host stops an invocation at functionTimeout; the extension fails the task with the WebJobs
        SDK's FunctionTimeoutException message (see ``host_limits``)."""
        limit = str(dt.timedelta(seconds=timeout)).zfill(8)
        reason = f"Timeout value of {limit} was exceeded by function: Functions.{activity.name}"
        at = began + dt.timedelta(seconds=timeout)
        details = f"Microsoft.Azure.WebJobs.Host.FunctionTimeoutException: {reason}"
        return h.task_failed(at, task_id=activity.task_id, reason=reason, details=details)

    def _continue_as_new(self, instance: Instance, input_text: str | None) -> None:
        with instance.lock:
            instance.generation += 1
            instance.largest_history = max(instance.largest_history, len(instance.history))
            instance.history = []
            instance.input_wire = input_text
            instance.dispatched.clear()
            instance.armed.clear()
            instance.inbox.append(START)

    def _finish(
        self, instance: Instance, status: str, *, output: Any = None, error: str | None = None, record: bool = True
    ) -> None:
        if record:
            now = self.clock.now()
            payload = error if status == "Failed" else output
            result = json.dumps(payload)
            self._append(instance, h.execution_completed(now, status=status, result=result, event_id=-1))
            self._append(instance, h.orchestrator_completed(now))
        with instance.lock:
            instance.status = status
            instance.output = error if status == "Failed" else output
            instance.error = error
            instance.last_updated_time = self.clock.now()
        instance.done.set()
