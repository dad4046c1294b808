"""Activities that take a twin down: wait out its provisioning, delete its group, record the end.

A resource-group delete can outlast an activity (Consumption stops functions at 5-10 minutes), so
it is started here and polled from the orchestrator with durable timers, one short GET per poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import azure.durable_functions as df

from activities.payloads import JsonObject
from activities.provisioning import poll_state
from activities.steps import run_step
from controlplane.arm import locks, resource_groups
from controlplane.arm.clients import arm_clients
from controlplane.domain.errors import ConcurrentUpdate
from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.domain.step_outputs import Deleted, GraceEnded, GroupExists, OperationBegun
from controlplane.domain.step_requests import JobStatusQuery, OperationPoll
from controlplane.domain.step_results import Fenced, StepOutput
from controlplane.registry import default_registry
from controlplane.workflows import durable_calls

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()


def _teardown_step(step: str, twin: TwinJob, action: Callable[[TwinNames], StepOutput]) -> JsonObject:
    return run_step(step, twin, action, while_status=Status.DELETING)


@blueprint.activity_trigger(input_name="request")
@blueprint.durable_client_input(client_name="client")
async def job_runtime_status(request: JsonObject, client: df.DurableOrchestrationClient) -> str:
    """The Durable runtime status of another job ("NotFound" when there is none).

    The job id comes wrapped in an object: the extension hands a bare string input to a Python activity
    unquoted, and the worker's converter parses it as JSON first, so an id such as ``"1e3"`` would arrive
    as the number 1000.0 and its status would read NotFound (README, "Microsoft's Python worker").
    """
    status = await durable_calls.get_status(client, JobStatusQuery.from_json(request).job_id)
    if status is None or status.runtime_status is None:
        return "NotFound"
    return str(status.runtime_status.value)


@blueprint.activity_trigger(input_name="job")
def begin_delete_resource_group(job: JsonObject) -> JsonObject:
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> OperationBegun:
        clients = arm_clients(twin.subscription_id)
        # The lock goes just before the delete, in the same step: a teardown that stops between the two
        # leaves the group unlocked only until its retry deletes it (a repeated lock DELETE answers 204).
        locks.remove_delete_lock(clients, names)
        return OperationBegun(resource_groups.begin_delete_resource_group(clients, names))

    return _teardown_step("delete_resource_group", twin, action)


@blueprint.activity_trigger(input_name="job")
def end_grace_period(job: JsonObject) -> JsonObject:
    """The grace period is over: move the pending row to deleting, if it is still this job's (not restored)."""
    twin = TwinJob.from_input(job)
    try:
        default_registry().transition(twin.cloud_id, Status.DELETING, for_job=twin.job_id, delete_at=None)
    except ConcurrentUpdate:
        return Fenced().to_json()
    return GraceEnded(twin.cloud_id).to_json()


@blueprint.activity_trigger(input_name="request")
def poll_delete(request: JsonObject) -> JsonObject:
    poll = OperationPoll.from_json(request)
    return _teardown_step("delete_resource_group", poll.job, lambda names: poll_state(poll.job, poll.operation_url))


@blueprint.activity_trigger(input_name="job")
def resource_group_exists(job: JsonObject) -> JsonObject:
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> GroupExists:
        return GroupExists(resource_groups.resource_group_exists(arm_clients(twin.subscription_id), names))

    return _teardown_step("verify_deleted", twin, action)


@blueprint.activity_trigger(input_name="job")
def mark_deleted(job: JsonObject) -> JsonObject:
    twin = TwinJob.from_input(job)
    try:
        default_registry().transition(twin.cloud_id, Status.DELETED, for_job=twin.job_id, url=None)
    except ConcurrentUpdate:
        return Fenced().to_json()
    return Deleted(twin_names(twin.name).cloud_id).to_json()
