"""Activities of the level-triggered loops: drift per subscription, registry repair, heartbeat pages.

None of them changes Azure. Drift reads two paged ARM lists per subscription and compares them with
rows read *before* the lists (controlplane.domain.drift); a list that fails raises, so the activity
is retried by Durable and, if it keeps failing, the reconcile records the subscription as delayed
and changes no row. Row changes go through the lifecycle (``transition`` under the row's job), so a
twin a job took over in the meantime is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
import requests

from activities import config_drift
from activities.payloads import JsonObject
from controlplane.arm import inventory
from controlplane.arm.clients import arm_clients
from controlplane.domain.drift import Inventory, judge, missing_error
from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.lifecycle import Status
from controlplane.domain.loop_messages import (
    CloudIds,
    HeartbeatPage,
    HeartbeatSummary,
    LostJobsPage,
    MissingTwin,
    PageRequest,
    ReconcileDelay,
    SubscriptionReconciled,
    SubscriptionRequest,
)  # fmt: skip
from controlplane.domain.naming import twin_names
from controlplane.domain.step_outputs import Recorded
from controlplane.domain.twin import Twin, timestamp, utc_now
from controlplane.registry import TwinRegistry, default_registry, fleet_reads
from controlplane.registry import repair as registry_repair
from controlplane.settings import Settings, get_settings
from controlplane.twins.probe import probe
from controlplane.workflows import reconcile
from controlplane.workflows.job_inputs import job_for

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

DRIFT_STATUSES = (Status.ACTIVE, Status.MISSING)


@blueprint.activity_trigger(input_name="request")
def reconcile_subscription(request: JsonObject) -> JsonObject:
    """Mark rows whose resources vanished missing (and back), count orphans; report for /health.

    Returns the cloud_ids of the twins found missing whose jobs have event sinks (at most the
    subscription's resource groups, never the fleet); the orchestration reads their jobs a page at a
    time (``missing_event_jobs``) to announce them."""
    subscription_id = SubscriptionRequest.from_json(request).subscription_id
    registry, settings = default_registry(), get_settings()
    # Rows first: a twin active now had its resources made before the lists below are taken.
    rows = fleet_reads.subscription_rows(registry, subscription_id, DRIFT_STATUSES)
    held = inventory.scan(arm_clients(subscription_id))
    return judge_subscription(registry, settings, subscription_id, rows, held).to_json()


def judge_subscription(
    registry: TwinRegistry, settings: Settings, subscription_id: str, rows: list[Twin], held: Inventory,
    *, check_configuration: bool = True,
) -> SubscriptionReconciled:  # fmt: skip
    """Act on one subscription's drift (its rows, read before ``held`` was listed). ``check_configuration``:
    also compare settings, code and tags (activities.config_drift; it probes twins and reads ARM)."""
    drift = judge(rows, held)
    noticed = utc_now()
    announce: list[str] = []
    missing = 0
    for row, gone in drift.missing:
        error = missing_error(gone, twin_names(row.name), subscription_id, noticed)
        changed = _move(registry, row, Status.MISSING, error=error)
        if changed is not None:
            missing += 1
            if job_for(changed, settings).event_sinks:
                announce.append(changed.cloud_id)
    returned = sum(_move(registry, row, Status.ACTIVE, error=None) is not None for row in drift.returned)
    orphans = [names.cloud_id for names in drift.orphans if not registry.exists(names.cloud_id)]
    vanished = {row.cloud_id for row, _ in drift.missing}  # nothing left to compare
    present = [row for row in rows if row.cloud_id not in vanished]
    configuration = (
        config_drift.check(registry, present, held, settings, subscription_id) if check_configuration else {}
    )  # settings, code, tags
    report = {"orphans": orphans, "missing": missing, "returned": returned, "at": noticed, **configuration}
    registry.reports.save_drift(subscription_id, report)
    logger.info("reconciled %s: %d missing, %d back, %d orphans", subscription_id, missing, returned, len(orphans))
    return SubscriptionReconciled(subscription_id, missing, announce, returned, len(orphans))


@blueprint.activity_trigger(input_name="request")
def missing_event_jobs(request: JsonObject) -> list[JsonObject]:
    """One page of twins found missing: each one's job (to announce it) and the row's error, read now."""
    registry, settings = default_registry(), get_settings()
    jobs: list[JsonObject] = []
    for cloud_id in CloudIds.from_json(request).cloud_ids:
        try:
            row = registry.get(str(cloud_id))
        except ControlPlaneError:
            continue  # deleted meanwhile: nothing to announce
        if row.status == Status.MISSING:  # back, or taken over by a job, meanwhile: the live state wins
            jobs.append(MissingTwin(job_for(row, settings), row.error).to_json())
    return jobs


def _move(registry: TwinRegistry, row: Twin, status: Status, **changes: Any) -> Twin | None:
    try:
        return registry.transition(row.cloud_id, status, for_job=row.job_id, **changes)
    except ControlPlaneError as lost:  # a job took the twin over, or it moved on: the live write wins
        logger.info("reconcile left %s alone: %s", row.cloud_id, lost)
        return None


@blueprint.activity_trigger(input_name="request")
def record_reconcile_delay(request: JsonObject) -> JsonObject:
    """A subscription whose lists kept failing: say so on /health, change nothing else."""
    delay = ReconcileDelay.from_json(request)
    default_registry().reports.save_drift(delay.subscription_id, {"error": str(delay.error)[:1024], "at": utc_now()})
    return Recorded().to_json()


@blueprint.activity_trigger(input_name="request")
def observe_registry(request: JsonObject) -> JsonObject:
    """The repair's first observation (controlplane.registry.repair)."""
    return registry_repair.observe(default_registry())


@blueprint.activity_trigger(input_name="first")
def repair_registry(first: JsonObject) -> dict[str, int]:
    """The repair's second observation, and the corrections both agree on."""
    return default_registry().reconcile(first)


@blueprint.activity_trigger(input_name="request")
def heartbeat_page(request: JsonObject) -> JsonObject:
    """Probe one page of active twins (bounded concurrency); each answer moves the twin's ``last_seen``."""
    registry, settings = default_registry(), get_settings()
    # By key alone, every status: the service reads exactly what this page receives (controlplane.registry.fleet_reads).
    after = PageRequest.from_json(request).next
    page = fleet_reads.fleet_page(registry, after=after, limit=settings.heartbeat_page_size)
    active = [row for row in page.rows if row.status == Status.ACTIVE]
    stale_before = timestamp(datetime.now(UTC) - timedelta(seconds=settings.heartbeat_stale_after_seconds))
    timeout = settings.heartbeat_timeout_seconds

    def ask(row: Twin) -> bool:
        return probe(settings.readiness_url(twin_names(row.name)), timeout=timeout, session=session).ok

    with requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.heartbeat_concurrency)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        with ThreadPoolExecutor(settings.heartbeat_concurrency) as pool:
            answers = list(pool.map(ask, active))
    stale = 0
    for row, answered in zip(active, answers, strict=True):
        if answered:
            try:
                registry.touch(row.cloud_id)
            except ControlPlaneError:
                pass  # deleted meanwhile: nothing to record
        elif row.last_seen < stale_before:
            stale += 1
    return HeartbeatPage(probed=len(active), answered=sum(answers), stale=stale, next=page.next).to_json()


@blueprint.activity_trigger(input_name="request")
@blueprint.durable_client_input(client_name="client")
async def fail_lost_jobs_page(request: JsonObject, client: df.DurableOrchestrationClient) -> JsonObject:
    """One page of the fleet, by key: busy rows whose job is gone are marked errored (``JobLost``)."""
    registry, settings = default_registry(), get_settings()
    page = await asyncio.to_thread(fleet_reads.fleet_page, registry, after=PageRequest.from_json(request).next)
    failed = await reconcile.fail_lost_jobs(registry, client, settings, page.rows)
    return LostJobsPage(page.next, len(page.rows), len(failed)).to_json()


@blueprint.activity_trigger(input_name="summary")
def save_heartbeat(summary: JsonObject) -> JsonObject:
    counts = HeartbeatSummary.from_json(summary)
    default_registry().reports.save_heartbeat({**counts.to_json(), "swept_at": utc_now()})
    return {"saved": True}
