"""History events in the exact JSON shape the Durable extension hands the Python SDK.

The SDK replays an orchestrator from this list (``DurableOrchestrationContext`` builds a
``HistoryEvent(**event)`` from each dict), so every event carries ``EventType``, ``EventId``, ``IsPlayed``
and an ISO ``Timestamp``, plus the fields DurableTask.Core serialises for its type. The SDK reads only
some of them (completion events by ``TaskScheduledId``/``TimerId``, ``ExecutionStarted.Version``,
``OrchestratorStarted.Timestamp``); the rest are here so a saved history reads like a real one.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from azure.durable_functions.constants import DATETIME_STRING_FORMAT

Event = dict[str, Any]


class EventType(enum.IntEnum):
    """DurableTask.Core's ``EventType`` numbers (the SDK's ``HistoryEventType``)."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 with a ``Z``, as .NET writes ``DateTime`` (UTC) in history JSON."""
    return moment.astimezone(dt.UTC).strftime(DATETIME_STRING_FORMAT)


def parse_time(text: str) -> dt.datetime:
    """Read back a timestamp written by :func:`format_time` or by the SDK (``fireAt``)."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _event(event_type: EventType, moment: dt.datetime, event_id: int = -1, **fields: Any) -> Event:
    return {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_time(moment),
        **fields,
    }


def orchestrator_started(moment: dt.datetime) -> Event:
    return _event(EventType.ORCHESTRATOR_STARTED, moment)


def orchestrator_completed(moment: dt.datetime) -> Event:
    return _event(EventType.ORCHESTRATOR_COMPLETED, moment)


def execution_started(
    moment: dt.datetime, *, name: str, instance_id: str, execution_id: str, input_text: str | None
) -> Event:
    return _event(
        EventType.EXECUTION_STARTED,
        moment,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=None,
        Name=name,
        Version="",
        Input=input_text,
        Tags=None,
    )


def execution_completed(moment: dt.datetime, *, status: str, result: str | None, event_id: int) -> Event:
    return _event(
        EventType.EXECUTION_COMPLETED, moment, event_id, OrchestrationStatus=status, Result=result, FailureDetails=None
    )


def execution_terminated(moment: dt.datetime, *, reason: str | None) -> Event:
    return _event(EventType.EXECUTION_TERMINATED, moment, Input=reason)


def task_scheduled(moment: dt.datetime, *, task_id: int, name: str, input_text: str | None) -> Event:
    return _event(EventType.TASK_SCHEDULED, moment, task_id, Name=name, Version="", Input=input_text)


def task_completed(moment: dt.datetime, *, task_id: int, result: str | None) -> Event:
    return _event(EventType.TASK_COMPLETED, moment, TaskScheduledId=task_id, Result=result)


def task_failed(moment: dt.datetime, *, task_id: int, reason: str, details: str | None) -> Event:
    return _event(EventType.TASK_FAILED, moment, TaskScheduledId=task_id, Reason=reason, Details=details)


def timer_created(moment: dt.datetime, *, timer_id: int, fire_at: dt.datetime) -> Event:
    return _event(EventType.TIMER_CREATED, moment, timer_id, FireAt=format_time(fire_at))


def timer_fired(moment: dt.datetime, *, timer_id: int, fire_at: dt.datetime) -> Event:
    return _event(EventType.TIMER_FIRED, moment, TimerId=timer_id, FireAt=format_time(fire_at))


def event_raised(moment: dt.datetime, *, name: str, input_text: str | None) -> Event:
    return _event(EventType.EVENT_RAISED, moment, Name=name, Input=input_text)


def describe(event: Event) -> str:
    """One short line per event, for assertion messages and debugging."""
    kind = EventType(event["EventType"]).name
    detail = {
        EventType.TASK_SCHEDULED: lambda: f" #{event['EventId']} {event.get('Name')}",
        EventType.TASK_COMPLETED: lambda: f" #{event['TaskScheduledId']}",
        EventType.TASK_FAILED: lambda: f" #{event['TaskScheduledId']} {event.get('Reason')!r}",
        EventType.TIMER_CREATED: lambda: f" #{event['EventId']} {event.get('FireAt')}",
        EventType.TIMER_FIRED: lambda: f" #{event['TimerId']}",
        EventType.EVENT_RAISED: lambda: f" {event.get('Name')}",
    }.get(EventType(event["EventType"]), lambda: "")()
    return kind + detail
