"""Activities that build a twin: resource group, storage account, Function App, readiness, status.

Each is idempotent (ARM PUT is create-or-update; registry transitions to the status a row already
has are no-ops), because Durable runs an activity at least once. Each first checks the fence: the
row must still be provisioning and belong to this job, so a twin whose teardown has begun gets no
new resources. Secrets (a Consumption app's storage key, the operator's env-key values) are read
here, sent to ARM, and never returned: Durable would keep a return value in its history. A Flex
app gets no key at all (controlplane/runtime_targets.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import azure.durable_functions as df
import requests

from activities.payloads import JsonObject
from activities.steps import run_step
from controlplane.arm import resource_groups, storage_accounts
from controlplane.arm.clients import arm_clients
from controlplane.arm.runtime_targets import get_target
from controlplane.domain.errors import ConcurrentUpdate
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import BrainstemNames, brainstem_names
from controlplane.domain.step_errors import StepError
from controlplane.registry import default_registry
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

PROBE_TIMEOUT_SECONDS = 10
# App settings the platform needs; an operator env key of the same name does not replace them.
_RESERVED_SETTINGS = frozenset(
    {"AzureWebJobsStorage", "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE"}
)


def _provision_step(step: str, job: BrainstemJob, action: Callable[[BrainstemNames], dict[str, Any]]) -> dict[str, Any]:
    return run_step(step, job, action, while_status=Status.PROVISIONING)


def _tags(job: BrainstemJob, names: BrainstemNames) -> dict[str, str]:
    return resource_groups.twin_tags(names, org=get_settings().org_tag, owner=job.owner)


@blueprint.activity_trigger(input_name="job")
def ensure_resource_group(job: JsonObject) -> dict[str, Any]:
    twin = BrainstemJob.from_input(job)

    def action(names: BrainstemNames) -> dict[str, Any]:
        clients = arm_clients(twin.subscription_id)
        group_id = resource_groups.ensure_resource_group(clients, names, region=twin.region, tags=_tags(twin, names))
        return {"id": group_id}

    return _provision_step("resource_group", twin, action)


@blueprint.activity_trigger(input_name="job")
def ensure_storage_account(job: JsonObject) -> dict[str, Any]:
    twin = BrainstemJob.from_input(job)

    def action(names: BrainstemNames) -> dict[str, Any]:
        clients = arm_clients(twin.subscription_id)
        account_id = storage_accounts.ensure_storage_account(
            clients, names, region=twin.region, tags=_tags(twin, names)
        )
        return {"id": account_id}

    return _provision_step("storage_account", twin, action)


def build_function_app(twin: BrainstemJob, names: BrainstemNames, *, update: bool = False) -> dict[str, Any]:
    """Plan, site and code at ``twin.deploy_ref`` with the operator's current env keys (create or update).

    An update keeps the plan it has (one read instead of a write: ARM's write budget goes to sites)."""
    settings = get_settings()
    # The operator's env keys for every twin, then the twin's own (Key Vault references) over them.
    operator = {
        k: v for k, v in {**settings.env_keys, **(twin.app_settings or {})}.items() if k not in _RESERVED_SETTINGS
    }
    built = get_target(twin.runtime_target).build(
        arm_clients(twin.subscription_id), names, region=twin.region, tags=_tags(twin, names),
        deploy_ref=twin.deploy_ref, package_url=settings.package_url(twin.deploy_ref), operator_settings=operator,
        update=update,
    )  # fmt: skip
    return built.to_result()  # setting names only, never values


@blueprint.activity_trigger(input_name="job")
def ensure_function_app(job: JsonObject) -> dict[str, Any]:
    """Plan, site and whatever else the twin's runtime target needs (Flex: container, roles, code)."""
    twin = BrainstemJob.from_input(job)
    return _provision_step("function_app", twin, lambda names: build_function_app(twin, names))


@blueprint.activity_trigger(input_name="job")
def probe_brainstem(job: JsonObject) -> dict[str, Any]:
    """One GET of the twin's URL. Any answer below 500 means its host is up (a 404 too)."""
    twin = BrainstemJob.from_input(job)
    names = brainstem_names(twin.name)
    url = get_settings().brainstem_url(names)
    try:
        response = requests.get(url, timeout=PROBE_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        return {"ready": False, "status": None, "reason": type(exc).__name__}
    return {"ready": response.status_code < 500, "status": response.status_code}


@blueprint.activity_trigger(input_name="job")
def mark_active(job: JsonObject) -> dict[str, Any]:
    twin = BrainstemJob.from_input(job)
    try:
        row = default_registry().transition(
            twin.cloud_id,
            Status.ACTIVE,
            for_job=twin.job_id,
            url=get_settings().brainstem_url(brainstem_names(twin.name)),
            error=None,
        )
    except ConcurrentUpdate:
        return {"fenced": True}
    return {"url": row.url}


@blueprint.activity_trigger(input_name="failure")
def mark_errored(failure: JsonObject) -> dict[str, Any]:
    """Record a failed step on the row (kept for the operator: step, ARM code and message)."""
    twin = BrainstemJob.from_input(failure["job"])
    error = StepError(**failure["error"])
    # ARM refused the resource group itself (a 4xx, not a lost answer): nothing of this twin exists,
    # so its capacity goes back to the pool until it is provisioned again.
    nothing_created = error.step == "resource_group" and not error.transient
    try:
        default_registry().transition(
            twin.cloud_id, Status.ERRORED, for_job=twin.job_id, error=error.to_dict(), release_slots=nothing_created
        )
    except ConcurrentUpdate:
        return {"fenced": True}
    return {"recorded": True}
