"""The reconcile's configuration-drift step: for one subscription's active twins, which fields drifted.

Called by ``reconcile_subscription`` with the rows and lists it already has, so tags cost no call to
ARM at all (the tagged-group list carries them). Each twin's readiness route is asked which
deploy_ref it runs (not ARM). App settings need ``config/appsettings/list`` — a POST per twin, which
ARM counts as a write — so each run reads only ``CP_DRIFT_SETTINGS_PER_RUN`` twins per subscription,
walking the subscription's twins in a stable order run after run (controlplane.domain.config_drift):
a full pass of a subscription takes ``ceil(twins / per_run)`` reconcile runs (hourly). Between two
reads, a twin keeps the settings verdict of its last read.

What is found goes on the row (``drift``: field names, never values) under the row's job, so a twin a
job took over meanwhile is left alone; the count goes in the subscription's report (/health).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import requests

from activities.provisioning import desired_operator_settings
from controlplane.arm import resource_groups
from controlplane.arm.clients import arm_clients
from controlplane.arm.function_apps import current_app_settings
from controlplane.domain import config_drift
from controlplane.domain.drift import Inventory
from controlplane.domain.errors import ControlPlaneError
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.twin import Twin
from controlplane.registry import TwinRegistry
from controlplane.settings import Settings
from controlplane.twins.probe import probe

logger = logging.getLogger(__name__)
RECONCILE_PERIOD_SECONDS = 3600  # activities/maintenance.py: the reconcile's timer fires hourly


def check(
    registry: TwinRegistry, rows: Sequence[Twin], held: Inventory, settings: Settings, subscription_id: str
) -> dict[str, Any]:
    active = sorted((r for r in rows if r.status == Status.ACTIVE), key=lambda r: config_drift.drift_order(r.cloud_id))
    run = int(datetime.now(UTC).timestamp() // RECONCILE_PERIOD_SECONDS)
    sampled = {
        r.cloud_id for r in config_drift.settings_sample(active, per_run=settings.drift_settings_per_run, run=run)
    }
    clients = arm_clients(subscription_id) if sampled else None
    drifted: list[str] = []
    with requests.Session() as session:
        # The readiness probes go out CP_HEARTBEAT_CONCURRENCY at a time, as the heartbeat's do.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.heartbeat_concurrency)
        session.mount("https://", adapter)
        session.mount("http://", adapter)

        def fields_of(row: Twin) -> list[str]:
            return _drifted_fields(row, held, settings, session, clients if row.cloud_id in sampled else None)

        with ThreadPoolExecutor(settings.heartbeat_concurrency) as pool:
            found = list(pool.map(fields_of, active))
    for row, fields in zip(active, found, strict=True):
        if fields:
            drifted.append(row.cloud_id)
        if (fields or None) != row.drift:
            _record(registry, row, fields or None)
    logger.info("%s: %d of %d active twins drifted (%d settings read)", subscription_id, len(drifted), len(active),
                len(sampled))  # fmt: skip
    return {"drifted": len(drifted), "drifted_names": drifted[:10], "settings_read": len(sampled)}


def _drifted_fields(
    row: Twin, held: Inventory, settings: Settings, session: requests.Session, clients: Any
) -> list[str]:
    names = twin_names(row.name)
    fields = set(row.drift or ()) & {config_drift.APP_SETTINGS}  # kept until this twin's settings are read again
    group = held.groups.get(names.resource_group.lower())
    expected_tags = resource_groups.twin_tags(names, org=settings.org_tag, owner=row.owner)
    if group is not None and config_drift.tags_drift(expected_tags, group.tags):
        fields.add(config_drift.TAGS)
    answer = probe(settings.readiness_url(names), timeout=settings.heartbeat_timeout_seconds, session=session)
    if answer.ok and config_drift.deploy_ref_drift(row.deploy_ref, answer.deploy_ref):
        fields.add(config_drift.DEPLOY_REF)
    if clients is not None:
        fields.discard(config_drift.APP_SETTINGS)
        actual = current_app_settings(clients, names)  # values stay here: only names leave this function
        if config_drift.settings_drift(desired_operator_settings(row.app_settings), actual):
            fields.add(config_drift.APP_SETTINGS)
    return sorted(fields)


def _record(registry: TwinRegistry, row: Twin, drift: list[str] | None) -> None:
    def change(current: Twin) -> Twin | None:
        if current.job_id != row.job_id or current.status != Status.ACTIVE:
            return None  # a job took the twin over: its own outcome decides what the twin is
        return current.with_changes(drift=drift)

    try:
        registry.update(row.cloud_id, change)
    except ControlPlaneError as lost:
        logger.info("drift of %s not recorded: %s", row.cloud_id, lost)
