"""The extension's half of a replay: from (history, orchestrator state) to the work still owed.

After each replay the Python SDK returns its cumulative ``actions``; the Durable extension (through
DurableTask.Core) turns them into scheduled work. It numbers every task and timer in the order the
orchestration creates them, and the SDK numbers them the same way while it replays, which is how a
``TaskCompleted(TaskScheduledId=3)`` finds its task. Retries are the subtle part: the SDK emits one
``CallActivityWithRetry`` action, but DurableTask.Core schedules each attempt and a timer after each
failure as separate numbered tasks, and the SDK's ``RetryAbleTask`` expects exactly that (including the
timer after the last failed attempt).

This module replays that numbering deterministically from the history alone — no state kept between
episodes — so a history saved at any event can be resumed. Walking the history event by event, it
issues the orchestrator's yields (one per entry of the V2/V3 actions list) when the previous one
resolves, allocates ids as the SDK does, runs the retry bookkeeping, and finally compares what it
allocated with what the history says was scheduled. A mismatch is DurableTask.Core's
``NonDeterministicOrchestrationException``; the SDK itself never notices (it routes results by id only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sandbox.durable import history as h
from sandbox.durable.history import Event, EventType

CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY, CONTINUE_AS_NEW, CREATE_TIMER, WAIT_FOR_EVENT = 0, 1, 4, 5, 6
WHEN_ANY, WHEN_ALL = 11, 12


@dataclass
class _Leaf:
    action: dict[str, Any]
    kind: str  # activity | retry | timer | event | instant
    attempts: int = 0
    done: bool = False
    failed: bool = False


@dataclass
class _Node:
    mode: str  # leaf | all | any
    leaf: _Leaf | None = None
    children: list[_Node] = field(default_factory=list)

    def resolved(self) -> bool:
        if self.leaf is not None:
            return self.leaf.done
        states = [child.resolved() for child in self.children]
        if self.mode == "any":
            return any(states) or not self.children
        return all(states) or any(child.resolved() and child.failed() for child in self.children)

    def failed(self) -> bool:
        if self.leaf is not None:
            return self.leaf.failed
        return any(child.resolved() and child.failed() for child in self.children)

    def leaves(self) -> list[_Leaf]:
        return [self.leaf] if self.leaf is not None else [leaf for child in self.children for leaf in child.leaves()]


@dataclass(frozen=True)
class ScheduledActivity:
    task_id: int
    name: str
    input_text: str | None
    attempt: int


@dataclass(frozen=True)
class ScheduledTimer:
    timer_id: int
    fire_at: dt.datetime


@dataclass
class ReplayPlan:
    new_events: list[Event]
    pending_activities: list[ScheduledActivity]
    pending_timers: list[ScheduledTimer]
    waiting_for_events: list[str]
    nondeterminism: str | None = None
    unsupported: str | None = None

    @property
    def can_progress(self) -> bool:
        return bool(self.pending_activities or self.pending_timers or self.waiting_for_events)


def _parse_node(action: dict[str, Any]) -> _Node:
    action_type = action.get("actionType")
    if action_type in (WHEN_ALL, WHEN_ANY):
        children = [_parse_node(child) for child in action.get("compoundActions", [])]
        return _Node("all" if action_type == WHEN_ALL else "any", children=children)
    kind = {
        CALL_ACTIVITY: "activity",
        CALL_ACTIVITY_WITH_RETRY: "retry",
        CREATE_TIMER: "timer",
        WAIT_FOR_EVENT: "event",
        CONTINUE_AS_NEW: "instant",
    }.get(action_type, "unsupported")
    return _Node("leaf", leaf=_Leaf(action, kind))


def parse_yields(state: dict[str, Any]) -> list[_Node]:
    """One node per orchestrator yield; V1 has a list per yield, V2+ one flat list with compound actions."""
    actions = state.get("actions") or []
    if "schemaVersion" in state:
        return [_parse_node(action) for action in (actions[0] if actions else [])]
    nodes = []
    for group in actions:
        children = [_parse_node(action) for action in group]
        nodes.append(children[0] if len(children) == 1 else _Node("all", children=children))
    return nodes


def _retry_interval(action: dict[str, Any]) -> dt.timedelta:
    return dt.timedelta(milliseconds=action["retryOptions"]["firstRetryIntervalInMilliseconds"])


class _Simulation:
    """The SDK's id allocation and retry bookkeeping, replayed over one history."""

    def __init__(self, yields: list[_Node]) -> None:
        self.yields = yields
        self.issued = 0
        self.next_id = 0
        self.episode_time: dt.datetime | None = None
        # id -> (leaf, role, attempt); role: attempt | timer | retry_timer
        self.owners: dict[int, tuple[_Leaf, str, int]] = {}
        self.retry_fire_at: dict[int, dt.datetime] = {}
        self.completed: set[int] = set()
        self.buffered_events: dict[str, int] = {}
        self.waiting_events: list[_Leaf] = []
        self.unsupported: str | None = None
        self.problems: list[str] = []

    def _allocate(self, leaf: _Leaf, role: str, attempt: int = 0) -> int:
        task_id = self.next_id
        self.next_id += 1
        self.owners[task_id] = (leaf, role, attempt)
        return task_id

    def advance(self) -> None:
        while self.issued < len(self.yields) and (self.issued == 0 or self.yields[self.issued - 1].resolved()):
            for leaf in self.yields[self.issued].leaves():
                self._issue(leaf)
            self.issued += 1

    def _issue(self, leaf: _Leaf) -> None:
        if leaf.kind == "unsupported":
            self.unsupported = f"the sandbox driver does not support actionType {leaf.action.get('actionType')}"
            return
        if leaf.kind == "event":
            name = leaf.action["externalEventName"]
            if self.buffered_events.get(name):
                self.buffered_events[name] -= 1
                leaf.done = True
            else:
                self.waiting_events.append(leaf)
            return
        if leaf.kind == "instant":
            self._allocate(leaf, "instant")
            leaf.done = True
            return
        leaf.attempts = 1
        self._allocate(leaf, "timer" if leaf.kind == "timer" else "attempt", attempt=1)

    def on_completion(self, task_id: int, *, success: bool, expect: str) -> None:
        owner = self.owners.get(task_id)
        if owner is None or (owner[1] == "attempt") != (expect == "attempt"):
            self.problems.append(f"history completes task {task_id}, which this replay did not schedule as {expect}")
            return
        if task_id in self.completed:
            return
        self.completed.add(task_id)
        leaf, role, _ = owner
        if role == "retry_timer":
            if leaf.attempts >= leaf.action["retryOptions"]["maxNumberOfAttempts"]:
                leaf.done = leaf.failed = True
            else:
                leaf.attempts += 1
                self._allocate(leaf, "attempt", attempt=leaf.attempts)
        elif not success and leaf.kind == "retry":
            timer_id = self._allocate(leaf, "retry_timer")
            base = self.episode_time or dt.datetime.now(dt.UTC)
            self.retry_fire_at[timer_id] = base + _retry_interval(leaf.action)
        else:
            leaf.done, leaf.failed = True, not success
        self.advance()

    def on_event_raised(self, name: str) -> None:
        waiting = [leaf for leaf in self.waiting_events if not leaf.done and leaf.action["externalEventName"] == name]
        if waiting:
            waiting[-1].done = True  # the SDK pops the most recent waiter for that name
            self.advance()
        else:
            self.buffered_events[name] = self.buffered_events.get(name, 0) + 1


def plan_replay(history: list[Event], state: dict[str, Any], *, now: dt.datetime) -> ReplayPlan:
    """What the extension would schedule after this replay (new events stamped ``now``), and whether it diverged."""
    simulation = _Simulation(parse_yields(state))
    scheduled: dict[int, Event] = {}
    for event in history:
        kind = event["EventType"]
        if kind == EventType.ORCHESTRATOR_STARTED:
            simulation.episode_time = h.parse_time(event["Timestamp"])
        elif kind == EventType.EXECUTION_STARTED:
            simulation.advance()
        elif kind in (EventType.TASK_SCHEDULED, EventType.TIMER_CREATED):
            scheduled[event["EventId"]] = event
        elif kind in (EventType.TASK_COMPLETED, EventType.TASK_FAILED):
            success = kind == EventType.TASK_COMPLETED
            simulation.on_completion(event["TaskScheduledId"], success=success, expect="attempt")
        elif kind == EventType.TIMER_FIRED:
            simulation.on_completion(event["TimerId"], success=True, expect="timer")
        elif kind == EventType.EVENT_RAISED:
            simulation.on_event_raised(event["Name"])

    plan = ReplayPlan([], [], [], [], unsupported=simulation.unsupported)
    problems = list(simulation.problems)
    for task_id in sorted(simulation.owners):
        leaf, role, attempt = simulation.owners[task_id]
        if role == "instant":
            continue
        existing = scheduled.pop(task_id, None)
        if role == "attempt":
            name = leaf.action["functionName"]
            if existing is None:
                input_text = leaf.action.get("input")
                plan.new_events.append(h.task_scheduled(now, task_id=task_id, name=name, input_text=input_text))
            elif existing["EventType"] != EventType.TASK_SCHEDULED or existing.get("Name") != name:
                problems.append(_divergence(task_id, existing, f"activity '{name}'"))
            if task_id not in simulation.completed:
                plan.pending_activities.append(ScheduledActivity(task_id, name, leaf.action.get("input"), attempt))
            continue
        if role == "timer":
            fire_at = h.parse_time(leaf.action["fireAt"])
        else:
            fire_at = simulation.retry_fire_at[task_id]
        if existing is None:
            plan.new_events.append(h.timer_created(now, timer_id=task_id, fire_at=fire_at))
        elif existing["EventType"] != EventType.TIMER_CREATED:
            problems.append(_divergence(task_id, existing, "a timer"))
        else:
            fire_at = h.parse_time(existing["FireAt"])
        cancelled = role == "timer" and leaf.action.get("isCanceled")
        if task_id not in simulation.completed and not cancelled:
            plan.pending_timers.append(ScheduledTimer(task_id, fire_at))
    for task_id, event in sorted(scheduled.items()):
        problems.append(_divergence(task_id, event, "nothing"))
    plan.waiting_for_events = [leaf.action["externalEventName"] for leaf in simulation.waiting_events if not leaf.done]
    if problems:
        plan.nondeterminism = "Non-Deterministic workflow detected: " + "; ".join(problems)
    return plan


def _divergence(task_id: int, event: Event, replayed: str) -> str:
    return (
        f"a previous execution scheduled {h.describe(event)} with sequence ID {task_id}, "
        f"but the current replay scheduled {replayed} there. "
        "Was a change made to the orchestrator code after this instance had already started running?"
    )
