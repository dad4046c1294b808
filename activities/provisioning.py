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

import azure.durable_functions as df

from activities.payloads import JsonObject
from activities.steps import fence_of, run_step
from controlplane.arm import function_apps, locks, preflight, resource_groups, storage_accounts
from controlplane.arm.clients import arm_clients
from controlplane.arm.runtime_targets import builder_for, uses_shared_key
from controlplane.domain.errors import ConcurrentUpdate
from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.domain.runtime_targets import target_spec
from controlplane.domain.step_outputs import (
    Activated,
    Begun,
    Built,
    GroupEnsured,
    NamesChecked,
    OperationBegun,
    OperationState,
    Recorded,
)  # fmt: skip
from controlplane.domain.step_requests import ErrorRecord, FinishApp, OperationPoll
from controlplane.domain.step_results import Fenced, StepOutput
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


def _provision_step(step: str, job: TwinJob, action: Callable[[TwinNames], StepOutput]) -> JsonObject:
    return run_step(step, job, action, while_status=Status.PROVISIONING)


def tags_for(job: TwinJob, names: TwinNames) -> dict[str, str]:
    return resource_groups.twin_tags(names, org=get_settings().org_tag, owner=job.owner)


@blueprint.activity_trigger(input_name="job")
def check_names(job: JsonObject) -> JsonObject:
    """Are the twin's site and storage names free in all of Azure, and does its region offer its plan?"""
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> NamesChecked:
        spec = target_spec(twin.runtime_target)
        preflight.check_before_create(arm_clients(twin.subscription_id), names, spec, twin.region)
        return NamesChecked([names.app_name, names.storage_account])

    return _provision_step("names", twin, action)


@blueprint.activity_trigger(input_name="job")
def ensure_resource_group(job: JsonObject) -> JsonObject:
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> GroupEnsured:
        clients = arm_clients(twin.subscription_id)
        group_id = resource_groups.ensure_resource_group(clients, names, region=twin.region, tags=tags_for(twin, names))
        # Locked from its first moment: nothing but our teardown can delete the group (controlplane.arm.locks).
        return GroupEnsured(group_id, locks.ensure_delete_lock(clients, names))

    return _provision_step("resource_group", twin, action)


@blueprint.activity_trigger(input_name="job")
def ensure_storage_account(job: JsonObject) -> JsonObject:
    """Begin the account's create; the orchestration polls ``operation_url`` on durable timers."""
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> OperationBegun:
        clients = arm_clients(twin.subscription_id)
        url = storage_accounts.begin_storage_account(
            clients, names, region=twin.region, tags=tags_for(twin, names),
            shared_key_access=uses_shared_key(target_spec(twin.runtime_target)),
        )  # fmt: skip
        return OperationBegun(url)

    return _provision_step("storage_account", twin, action)


@blueprint.activity_trigger(input_name="request")
def poll_arm_operation(request: JsonObject) -> JsonObject:
    """One GET of a create's operation URL (a read: nothing booked), under the job's fence."""
    poll = OperationPoll.from_json(request)
    twin = poll.job

    def action(names: TwinNames) -> OperationState:
        return poll_state(twin, poll.operation_url)

    return run_step(str(poll.step), twin, action, while_status=fence_of(poll.fence))


def poll_state(twin: TwinJob, operation_url: str) -> OperationState:
    """One GET of an ARM operation of the twin's subscription (a create's or its group's delete)."""
    state = resource_groups.poll_operation(arm_clients(twin.subscription_id), operation_url)
    return OperationState(state.done, state.failed, state.code, state.message)


def desired_operator_settings(app_settings: dict[str, str] | None) -> dict[str, str]:
    """The app settings a twin should carry beyond the platform's: the operator's env keys for every
    twin, then the twin's own (Key Vault references) over them. Values may be secrets: never return them."""
    settings = get_settings()
    return {k: v for k, v in {**settings.env_keys, **(app_settings or {})}.items() if k not in _RESERVED_SETTINGS}


def operator_settings(twin: TwinJob) -> dict[str, str]:
    """What a twin's site carries beyond the platform's settings (desired_operator_settings)."""
    return desired_operator_settings(twin.app_settings)


def begin_site(twin: TwinJob, names: TwinNames) -> Begun:
    """Send the site's PUT with the operator's current env keys (create or update); its operation to poll."""
    begun = builder_for(target_spec(twin.runtime_target)).begin_site(
        arm_clients(twin.subscription_id), names, region=twin.region, tags=tags_for(twin, names),
        operator_settings=operator_settings(twin),
    )  # fmt: skip
    return begun  # setting names only, never values


@blueprint.activity_trigger(input_name="job")
def ensure_function_plan(job: JsonObject) -> JsonObject:
    """Begin the plan's create; the orchestration polls ``operation_url`` (if any) on durable timers."""
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> OperationBegun:
        body = builder_for(target_spec(twin.runtime_target)).plan_body(
            names, region=twin.region, tags=tags_for(twin, names)
        )
        return OperationBegun(function_apps.begin_plan(arm_clients(twin.subscription_id), names, body))

    return _provision_step("function_app", twin, action)


@blueprint.activity_trigger(input_name="job")
def begin_function_site(job: JsonObject) -> JsonObject:
    """Begin the site's create on the made plan (Flex: its deployment container first). Not the code."""
    twin = TwinJob.from_input(job)
    return _provision_step("function_app", twin, lambda names: begin_site(twin, names))


@blueprint.activity_trigger(input_name="request")
def finish_function_app(request: JsonObject) -> JsonObject:
    """Once ARM has made the site: what needs it made (Flex: its identity's storage roles); its host."""
    finish = FinishApp.from_json(request)
    twin = finish.job

    def action(names: TwinNames) -> Built:
        return builder_for(target_spec(twin.runtime_target)).finish(arm_clients(twin.subscription_id), names)

    # The step a failure is reported under: a create's function_app, or an update's publish/rollback.
    return run_step(finish.step or "function_app", twin, action, while_status=fence_of(finish.fence))


@blueprint.activity_trigger(input_name="job")
def mark_active(job: JsonObject) -> JsonObject:
    twin = TwinJob.from_input(job)
    try:
        row = default_registry().transition(
            twin.cloud_id,
            Status.ACTIVE,
            for_job=twin.job_id,
            url=get_settings().brainstem_url(twin_names(twin.name)),
            error=None,
        )
    except ConcurrentUpdate:
        return Fenced().to_json()
    return Activated(row.url).to_json()


@blueprint.activity_trigger(input_name="failure")
def mark_errored(failure: JsonObject) -> JsonObject:
    """Record a failed step on the row (kept for the operator: step, ARM code and message)."""
    record = ErrorRecord.from_json(failure)
    twin, error = record.job, record.error
    # A name held elsewhere, or ARM refusing the resource group itself (a 4xx, not a lost answer):
    # nothing of this twin exists, so its capacity goes back to the pool until it is provisioned again.
    nothing_created = error.step in _NOTHING_CREATED_YET and not error.transient
    try:
        default_registry().transition(
            twin.cloud_id, Status.ERRORED, for_job=twin.job_id, error=error.to_dict(), release_slots=nothing_created
        )
    except ConcurrentUpdate:
        return Fenced().to_json()
    return Recorded().to_json()
