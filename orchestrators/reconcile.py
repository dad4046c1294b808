"""The level-triggered loops, as durable workflows started by timers (activities/maintenance.py).

    reconcile_fleet:  lost jobs, a page of the fleet at a time -> observe registry -> per subscription:
                      drift (its own rows by key, two ARM lists) -> events for twins found missing,
                      a page of jobs at a time -> wait the grace -> observe again and repair what agrees
    heartbeat_sweep:  page after page of active twins, probed with bounded concurrency; continues
                      as new every few pages so its history stays small at any fleet size

Each subscription is reconciled on its own: lists that keep failing (ARM 5xx, 429 past azure-core's
retries and Durable's) delay that subscription only, are recorded for /health, and change no row.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.events import Transition
from controlplane.domain.json_records import JsonObject
from controlplane.domain.loop_messages import (
    CloudIds,
    HeartbeatPage,
    HeartbeatState,
    LostJobsPage,
    MissingTwin,
    PageRequest,
    ReconcileDelay,
    ReconcileInput,
    SubscriptionReconciled,
    SubscriptionRequest,
)  # fmt: skip
from orchestrators.events import emit
from orchestrators.retries import retry_options

blueprint = df.Blueprint()

PAGES_PER_EPISODE = 20  # heartbeat pages per execution before continue-as-new (history stays ~60 events)
MISSING_EVENTS_PAGE = 100  # missing twins' jobs per activity result (~1 KB each: far under any payload cap)


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.RECONCILE)
def reconcile_fleet(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonObject]:
    request = ReconcileInput.from_json(context.get_input())
    retry = retry_options(request.policy)
    subscriptions: JsonObject = {}
    report: JsonObject = {"subscriptions": subscriptions, "missing": 0, "returned": 0, "orphans": 0, "lost": 0}
    cursor: str | None = None
    while True:  # the lost-job check: one page of the fleet per activity, the fleet read once
        answer = yield context.call_activity_with_retry(
            Activity.FAIL_LOST_JOBS_PAGE, retry, PageRequest(cursor).to_json()
        )
        page = LostJobsPage.from_json(answer)
        report["lost"] += page.failed
        cursor = page.next
        if not cursor:
            break
    # A registry observation: only the repair reads it (controlplane.registry.repair), so it travels as is.
    first = yield context.call_activity_with_retry(Activity.OBSERVE_REGISTRY, retry, {})
    for subscription_id in request.subscriptions:
        try:
            answer = yield context.call_activity_with_retry(
                Activity.RECONCILE_SUBSCRIPTION, retry, SubscriptionRequest(subscription_id).to_json()
            )
        except Exception as failure:  # lists kept failing: this subscription waits for the next run
            reason = str(failure)[:500]
            delay = ReconcileDelay(subscription_id, reason).to_json()
            yield context.call_activity_with_retry(Activity.RECORD_RECONCILE_DELAY, retry, delay)
            subscriptions[subscription_id] = {"delayed": reason}
            continue
        found = SubscriptionReconciled.from_json(answer)
        for start in range(0, len(found.announce), MISSING_EVENTS_PAGE):  # jobs travel a page at a time
            page_ids = CloudIds(found.announce[start : start + MISSING_EVENTS_PAGE]).to_json()
            jobs = yield context.call_activity_with_retry(Activity.MISSING_EVENT_JOBS, retry, page_ids)
            for missing in map(MissingTwin.from_json, jobs):
                yield from emit(context, missing.job, Transition.MISSING, error=missing.error)
        subscriptions[subscription_id] = {"returned": found.returned, "orphans": found.orphans}
        report["missing"] += found.missing
        report["returned"] += found.returned
        report["orphans"] += found.orphans
    # The repair's second look comes a grace period after the first, so writes in flight then have landed.
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=request.grace_seconds))
    report["repair"] = yield context.call_activity_with_retry(Activity.REPAIR_REGISTRY, retry, first)
    return report


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.HEARTBEAT)
def heartbeat_sweep(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonObject | None]:
    state = HeartbeatState.from_json(context.get_input())
    retry = retry_options(state.policy)
    for _ in range(PAGES_PER_EPISODE):
        answer = yield context.call_activity_with_retry(
            Activity.HEARTBEAT_PAGE, retry, PageRequest(state.next).to_json()
        )
        page = HeartbeatPage.from_json(answer)
        state = replace(
            state, probed=state.probed + page.probed, answered=state.answered + page.answered,
            stale=state.stale + page.stale, next=page.next, started=True,
        )  # fmt: skip
        if not page.next:
            summary = state.summary().to_json()
            yield context.call_activity_with_retry(Activity.SAVE_HEARTBEAT, retry, summary)
            return summary
    context.continue_as_new(state.to_json())
    return None
