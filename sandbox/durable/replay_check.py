"""Prove an orchestration replay-safe: crash it after every history event and resume it.

A host can die between any two history writes. For every K from 1 to the length of a clean run's
history, this runs the orchestration until its history holds K events, throws the driver away, resumes
the saved history in a fresh driver (fresh clock, pools and bookkeeping: only the history survives, as
in Azure) and checks that the instance ends in the same state as the clean run.

Activities are at-least-once: a task scheduled but not yet completed when the host died runs again after
the restart. The check therefore allows each activity call one extra execution per crash in which it was
in flight, and no more; a call that never ran, or ran more often, fails the check.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.history import Event, EventType
from sandbox.durable.instance import OrchestrationResult


@dataclass(frozen=True)
class CrashCase:
    crash_after_event: int
    saved_history: list[Event]
    resumed: OrchestrationResult


class ReplaySafetyError(AssertionError):
    """The orchestration ended differently after a crash, or ran an activity too often or never."""


def _call_key(name: str, input_value: Any) -> tuple[str, str]:
    # A step's ARM grant says when the budget had room for it: a run resumed after a crash books again
    # and gets another time, by design. The call is the same call without it.
    # A step that takes its job beside other fields (``{"job": ..., ...}``) carries the grant in the job.
    if isinstance(input_value, dict) and "arm_grant" in input_value:
        input_value = {k: v for k, v in input_value.items() if k != "arm_grant"}
    if isinstance(input_value, dict) and isinstance(input_value.get("job"), dict):
        input_value = {**input_value, "job": _call_key(name, input_value["job"])[1]}
    return name, repr(input_value)


def _in_flight(history: list[Event]) -> Counter[tuple[str, str]]:
    """Activity calls scheduled in ``history`` with no completion: the ones a restart delivers again."""
    completed = {
        e["TaskScheduledId"] for e in history if e["EventType"] in (EventType.TASK_COMPLETED, EventType.TASK_FAILED)
    }
    pending: Counter[tuple[str, str]] = Counter()
    for event in history:
        if event["EventType"] == EventType.TASK_SCHEDULED and event["EventId"] not in completed:
            raw = event.get("Input")
            pending[_call_key(event["Name"], json.loads(raw) if raw is not None else None)] += 1
    return pending


def check_replay_safety(
    make_driver: Callable[[], OrchestrationDriver],
    orchestrator_name: str,
    input: Any = None,
    *,
    instance_id: str = "replay-check",
    compare: Callable[[OrchestrationResult], Any] = lambda r: (r.status, r.output),
    before_each_run: Callable[[], None] = lambda: None,
    timeout: float = 10.0,
    require_clean_calls: bool = True,
    polls: frozenset[str] = frozenset(),
) -> list[CrashCase]:
    """Crash after every event of a clean run, resume, and compare; raise ``ReplaySafetyError`` on a difference.

    ``before_each_run`` resets external state the activities keep (a fake cloud, a flaky counter), so every
    crash case starts from the same world as the clean run. ``compare`` picks what must match.
    ``require_clean_calls=False`` drops the lower bound for workflows whose later calls depend on an
    effect a redelivered activity already applied (a delete run twice finds nothing the second
    time and takes the shorter path); the upper bound — no call beyond at-least-once — still holds.
    Only the activities of the instance under test are counted: a workflow that starts other
    orchestrations (a rollout's update jobs) is judged on its own calls, not on theirs, which the
    fresh host of each run would otherwise start anew. ``polls`` names read-only activities a workflow calls until something it waits for has
    happened (a poll between durable timers): how often depends on how fast that happens, so their
    counts are not compared.
    """
    before_each_run()
    with make_driver() as driver:
        clean = driver.run(orchestrator_name, input, instance_id=instance_id, timeout=timeout)
        clean_calls = Counter(_call_key(e.name, e.input) for e in driver.executions(instance_id=instance_id))
    expected = compare(clean)
    cases: list[CrashCase] = []
    for crash_after in range(1, len(clean.history) + 1):
        before_each_run()
        with make_driver() as crashing:
            crashed = crashing.run(
                orchestrator_name, input, instance_id=instance_id, crash_after_event=crash_after, timeout=timeout
            )
        # Read the log only after close(): it waits for the activities still running at the crash, whose
        # effects (a counter, a resource) the resumed run sees, so they must be counted here too.
        crashed_calls = Counter(_call_key(e.name, e.input) for e in crashing.executions(instance_id=instance_id))
        if not crashed.crashed:
            # Completions that arrive together are handled in one episode (as on Azure), so this run's
            # history can be shorter than the clean run's: it never held ``crash_after`` events. It then
            # stands as an uncrashed run with another interleaving and must end exactly as the clean one.
            label = f"run for crash point {crash_after}/{len(clean.history)} (ended after {len(crashed.history)})"
            _check_same_end(
                label, compare(crashed), expected, crashed_calls, clean_calls, Counter(), require_clean_calls, polls
            )
            cases.append(CrashCase(crash_after, crashed.history, crashed))
            continue
        with make_driver() as resuming:
            resumed = resuming.resume(
                crashed.history,
                orchestrator_name=orchestrator_name,
                input=input,
                instance_id=instance_id,
                timeout=timeout,
            )
        resumed_calls = Counter(_call_key(e.name, e.input) for e in resuming.executions(instance_id=instance_id))
        label = f"crash after event {crash_after}/{len(clean.history)}"
        total = crashed_calls + resumed_calls
        redelivered = _in_flight(crashed.history)
        _check_same_end(label, compare(resumed), expected, total, clean_calls, redelivered, require_clean_calls, polls)
        cases.append(CrashCase(crash_after, crashed.history, resumed))
    return cases


def _check_same_end(
    label: str,
    ended: Any,
    expected: Any,
    total: Counter[tuple[str, str]],
    clean_calls: Counter[tuple[str, str]],
    redelivered: Counter[tuple[str, str]],
    require_clean_calls: bool,
    polls: frozenset[str],
) -> None:
    """The run ended as the clean run did, and ran each activity call as often as at-least-once allows."""
    if ended != expected:
        raise ReplaySafetyError(f"{label}: ended {ended!r}, clean run ended {expected!r}")
    for call in set(clean_calls) | set(total):
        if call[0] in polls:
            continue
        low = clean_calls[call] if require_clean_calls else 0
        high = clean_calls[call] + redelivered[call]
        if not low <= total[call] <= high:
            raise ReplaySafetyError(f"{label}: activity call {call} ran {total[call]} times, expected {low}..{high}")
