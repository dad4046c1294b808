"""``emit``: tell the job's event sinks that the twin reached a transition. One ``yield from`` per transition.

The event is built here, from the job and what the orchestration knows, so it is deterministic:
its id (job + transition) and time (the orchestration's replay-safe clock) are the same on every
replay. Each sink gets it through ``publish_event`` with Durable's retry and back-off. A sink that
still fails is recorded (``record_undelivered_event``) and the orchestration carries on: a dead
receiver delays a job by at most its retries, and never fails a twin.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity
from controlplane.domain.events import STATUS_AFTER, LifecycleEvent, Transition
from controlplane.domain.jobs import TwinJob
from controlplane.domain.step_requests import Delivered, EventDelivery, UndeliveredEvent
from orchestrators.retries import retry_options

_REASON_LIMIT = 500


def event_time(context: df.DurableOrchestrationContext) -> str:
    moment: datetime = context.current_utc_datetime
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def emit(
    context: df.DurableOrchestrationContext,
    twin: TwinJob,
    transition: Transition,
    *,
    url: str | None = None,
    error: dict[str, Any] | None = None,
    status: str | None = None,
) -> Generator[Any, Any, None]:
    """Publish ``transition`` to every sink of the job (none: nothing is scheduled)."""
    if not twin.event_sinks:
        return
    row = {**twin.to_input(), "status": status or STATUS_AFTER[transition], "url": url}
    event = LifecycleEvent.from_row(transition, row, time=event_time(context), error=error)
    for sink in twin.event_sinks:
        delivery = EventDelivery(sink, event, twin.callback_url if sink == "callback" else None)
        try:
            answer = yield context.call_activity_with_retry(
                Activity.PUBLISH_EVENT, retry_options(twin.policy), delivery.to_json()
            )
        except Exception as failure:  # the SDK raises the last attempt's failure once retries are spent
            result = Delivered(False, reason=str(failure)[:_REASON_LIMIT])
        else:
            result = Delivered.from_json(answer)
        if result.delivered or result.skipped:
            continue
        miss = UndeliveredEvent(
            cloud_id=twin.cloud_id, event_id=event.id, type=transition.event_type,
            sink=sink, reason=str(result.reason)[:_REASON_LIMIT],
        )  # fmt: skip
        try:
            yield context.call_activity(Activity.RECORD_UNDELIVERED_EVENT, miss.to_json())
        except Exception:  # noqa: S110 - the activity logged it; a lost record must not stop the twin either
            pass
