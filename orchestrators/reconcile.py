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
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.events import Transition
from controlplane.domain.jobs import BrainstemJob, Policy
from orchestrators.events import emit
from orchestrators.retries import retry_options

blueprint = df.Blueprint()

PAGES_PER_EPISODE = 20  # heartbeat pages per execution before continue-as-new (history stays ~60 events)
MISSING_EVENTS_PAGE = 100  # missing twins' jobs per activity result (~1 KB each: far under any payload cap)


@blueprint.orchestration_trigger(context_name="context", orchestration="reconcile_fleet")
def reconcile_fleet(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    request = context.get_input()
    retry = retry_options(Policy(**request["policy"]))
    report: dict[str, Any] = {"subscriptions": {}, "missing": 0, "returned": 0, "orphans": 0, "lost": 0}
    cursor: str | None = None
    while True:  # the lost-job check: one page of the fleet per activity, the fleet read once
        page = yield context.call_activity_with_retry("fail_lost_jobs_page", retry, {"next": cursor})
        report["lost"] += page["failed"]
        cursor = page["next"]
        if not cursor:
            break
    first = yield context.call_activity_with_retry("observe_registry", retry, {})
    for subscription_id in request["subscriptions"]:
        try:
            found = yield context.call_activity_with_retry(
                "reconcile_subscription", retry, {"subscription_id": subscription_id}
            )
        except Exception as failure:  # lists kept failing: this subscription waits for the next run
            reason = str(failure)[:500]
            yield context.call_activity_with_retry(
                "record_reconcile_delay", retry, {"subscription_id": subscription_id, "error": reason}
            )
            report["subscriptions"][subscription_id] = {"delayed": reason}
            continue
        announce = found["announce"]
        for start in range(0, len(announce), MISSING_EVENTS_PAGE):  # jobs travel a page at a time
            page = announce[start : start + MISSING_EVENTS_PAGE]
            jobs = yield context.call_activity_with_retry("missing_event_jobs", retry, {"cloud_ids": page})
            for job in jobs:
                error = job.pop("error")
                yield from emit(context, BrainstemJob.from_input(job), Transition.MISSING, error=error)
        report["subscriptions"][subscription_id] = {k: found[k] for k in ("returned", "orphans")}
        report["missing"] += found["missing"]
        report["returned"] += found["returned"]
        report["orphans"] += found["orphans"]
    # The repair's second look comes a grace period after the first, so writes in flight then have landed.
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=float(request["grace_seconds"])))
    report["repair"] = yield context.call_activity_with_retry("repair_registry", retry, first)
    return report


@blueprint.orchestration_trigger(context_name="context", orchestration="heartbeat_sweep")
def heartbeat_sweep(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any] | None]:
    state = dict(context.get_input())
    retry = retry_options(Policy(**state["policy"]))
    for _ in range(PAGES_PER_EPISODE):
        page = yield context.call_activity_with_retry("heartbeat_page", retry, {"next": state.get("next")})
        for key in ("probed", "answered", "stale"):
            state[key] = state.get(key, 0) + page[key]
        state["next"] = page["next"]
        if not page["next"]:
            summary = {key: state.get(key, 0) for key in ("probed", "answered", "stale")}
            yield context.call_activity_with_retry("save_heartbeat", retry, summary)
            return summary
    context.continue_as_new(state)
    return None
