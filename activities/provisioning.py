"""Activities that build a twin: name checks, resource group, storage account, Function App, status.

Each is idempotent (ARM PUT is create-or-update; registry transitions to the status a row already
has are no-ops), because Durable runs an activity at least once. Each first checks the fence: the
row must still be provisioning and belong to this job, so a twin whose teardown has begun gets no
new resources. Secrets (a Consumption app's storage key, the operator's env-key values) are read
here, sent to ARM, and never returned: Durable would keep a return value in its history. A Flex
app gets no key at all (controlplane/arm/flex_consumption.py). Code and readiness: activities/code.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import azure.durable_functions as df

from activities.payloads import JsonObject
from activities.steps import run_step
from controlplane.arm import locks, preflight, resource_groups, storage_accounts
from controlplane.arm.clients import arm_clients
from controlplane.arm.runtime_targets import builder_for, uses_shared_key
from controlplane.domain.errors import ConcurrentUpdate
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import BrainstemNames, brainstem_names
from controlplane.domain.runtime_targets import target_spec
from controlplane.domain.step_errors import StepError
from controlplane.registry import default_registry
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

# App settings the platform needs; an operator env key of the same name does not replace them.
_RESERVED_SETTINGS = frozenset(
    {
        "AzureWebJobsStorage", "AzureWebJobsDisableHomepage", "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE",
    }
)  # fmt: skip
# Steps after which nothing of the twin exists in Azure if they fail for good: its capacity goes back.
_NOTHING_CREATED_YET = frozenset({"names", "resource_group"})


def _provision_step(step: str, job: BrainstemJob, action: Callable[[BrainstemNames], dict[str, Any]]) -> dict[str, Any]:
    return run_step(step, job, action, while_status=Status.PROVISIONING)


def _tags(job: BrainstemJob, names: BrainstemNames) -> dict[str, str]:
    return resource_groups.twin_tags(names, org=get_settings().org_tag, owner=job.owner)


@blueprint.activity_trigger(input_name="job")
def check_names(job: JsonObject) -> dict[str, Any]:
    """Are the twin's site and storage names free in all of Azure, and does its region offer its plan?"""
    twin = BrainstemJob.from_input(job)

    def action(names: BrainstemNames) -> dict[str, Any]:
        spec = target_spec(twin.runtime_target)
        preflight.check_before_create(arm_clients(twin.subscription_id), names, spec, twin.region)
        return {"available": [names.app_name, names.storage_account]}

    return _provision_step("names", twin, action)


@blueprint.activity_trigger(input_name="job")
def ensure_resource_group(job: JsonObject) -> dict[str, Any]:
    twin = BrainstemJob.from_input(job)

    def action(names: BrainstemNames) -> dict[str, Any]:
        clients = arm_clients(twin.subscription_id)
        group_id = resource_groups.ensure_resource_group(clients, names, region=twin.region, tags=_tags(twin, names))
        # Locked from its first moment: nothing but our teardown can delete the group (controlplane.arm.locks).
        return {"id": group_id, "lock": locks.ensure_delete_lock(clients, names)}

    return _provision_step("resource_group", twin, action)


@blueprint.activity_trigger(input_name="job")
def ensure_storage_account(job: JsonObject) -> dict[str, Any]:
    twin = BrainstemJob.from_input(job)

    """Begin the account's create; the orchestration polls ``operation_url`` on durable timers."""

    def action(names: BrainstemNames) -> dict[str, Any]:
        clients = arm_clients(twin.subscription_id)
        url = storage_accounts.begin_storage_account(
            clients, names, region=twin.region, tags=_tags(twin, names),
            shared_key_access=uses_shared_key(target_spec(twin.runtime_target)),
        )  # fmt: skip
        return {"operation_url": url}

    return _provision_step("storage_account", twin, action)


@blueprint.activity_trigger(input_name="request")
def poll_arm_operation(request: JsonObject) -> dict[str, Any]:
    """One GET of a create's operation URL (a read: nothing booked), under the provisioning fence."""
    twin = BrainstemJob.from_input(request["job"])

    def action(names: BrainstemNames) -> dict[str, Any]:
        state = resource_groups.poll_operation(arm_clients(twin.subscription_id), str(request["operation_url"]))
        return {"done": state.done, "failed": state.failed, "code": state.code, "message": state.message}

    return _provision_step(str(request["step"]), twin, action)


def desired_operator_settings(app_settings: dict[str, str] | None) -> dict[str, str]:
    """The app settings a twin should carry beyond the platform's: the operator's env keys for every
    twin, then the twin's own (Key Vault references) over them. Values may be secrets: never return them."""
    settings = get_settings()
    return {k: v for k, v in {**settings.env_keys, **(app_settings or {})}.items() if k not in _RESERVED_SETTINGS}


def build_function_app(twin: BrainstemJob, names: BrainstemNames, *, update: bool = False) -> dict[str, Any]:
    """Plan, site and what the runtime target needs (Flex: container, roles) with the operator's current
    env keys: create or update. Not the code: publishing is its own step (activities/code.py).

    An update keeps the plan it has (one read instead of a write: ARM's write budget goes to sites)."""
    operator = desired_operator_settings(twin.app_settings)
    built = builder_for(target_spec(twin.runtime_target)).build(
        arm_clients(twin.subscription_id), names, region=twin.region, tags=_tags(twin, names),
        operator_settings=operator, update=update,
    )  # fmt: skip
    return built.to_result()  # setting names only, never values


@blueprint.activity_trigger(input_name="job")
def ensure_function_app(job: JsonObject) -> dict[str, Any]:
    """Plan, site and whatever else the twin's runtime target needs (Flex: container, roles). Not the code."""
    twin = BrainstemJob.from_input(job)
    return _provision_step("function_app", twin, lambda names: build_function_app(twin, names))


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
    # A name held elsewhere, or ARM refusing the resource group itself (a 4xx, not a lost answer):
    # nothing of this twin exists, so its capacity goes back to the pool until it is provisioned again.
    nothing_created = error.step in _NOTHING_CREATED_YET and not error.transient
    try:
        default_registry().transition(
            twin.cloud_id, Status.ERRORED, for_job=twin.job_id, error=error.to_dict(), release_slots=nothing_created
        )
    except ConcurrentUpdate:
        return {"fenced": True}
    return {"recorded": True}
