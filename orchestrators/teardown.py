"""Tear one twin down: stop its provisioning, delete its resource group, keep the row as deleted.

    [pending_delete: a durable timer until delete_at, then end_grace_period] -> wait_for_provisioning
    -> delete_resource_group (remove the lock, start the delete, then poll with durable timers)
    -> verify_deleted -> deleted

A soft delete (controlplane.service.soft_delete) first waits out the grace period on a durable timer
and then moves the row to ``deleting`` only if it is still this job's: a restore gave the row another
job id, so the teardown ends there, having touched nothing.

The HTTP layer marks the row ``deleting`` (owned by this job) before starting us. That fence stops
the provisioning job at its next step; we wait until that job has finished, so no resource is
created after its group is gone. The delete is started by one short activity and polled from
here, so no activity ever outlives the Consumption timeout, however long ARM takes.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.events import Transition
from controlplane.domain.jobs import TwinJob
from controlplane.domain.json_records import JsonObject
from controlplane.domain.step_errors import StepError
from controlplane.domain.step_outputs import (
    Deleted,
    GraceEnded,
    GroupExists,
    JobRuntimeStatus,
    OperationBegun,
    OperationState,
)
from controlplane.domain.step_requests import JobStatusQuery, OperationPoll
from controlplane.domain.step_results import Fenced, StepErrored
from orchestrators.events import emit
from orchestrators.steps import FUNCTION_TIMEOUT_SECONDS, call_arm_step, call_step, deadline_after, fail, progress, wait

blueprint = df.Blueprint()

_FINISHED = frozenset({"Completed", "Failed", "Terminated", "Canceled", "NotFound"})
DELETE_ROUNDS = 3


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.TEARDOWN)
def teardown_brainstem(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonObject]:
    twin = TwinJob.from_input(context.get_input())
    policy = twin.policy
    if twin.delete_at is not None:  # a soft delete: the twin runs on until its grace period ends
        progress(context, twin, "pending_delete", delete_at=twin.delete_at)
        due = datetime.fromisoformat(twin.delete_at.replace("Z", "+00:00"))
        if due > context.current_utc_datetime:
            yield context.create_timer(due)
        match (yield from call_step(context, "pending_delete", Activity.END_GRACE_PERIOD, twin, policy, GraceEnded)):
            case Fenced():  # restored meanwhile (or taken over): nothing is deleted
                progress(context, twin, "restored")
                return {"status": "cancelled", "cloud_id": twin.cloud_id, "at_step": "pending_delete"}
            case StepErrored(error):
                return (yield from fail(context, twin, error))
    yield from emit(context, twin, Transition.DELETING)

    if twin.previous_job_id:
        progress(context, twin, "wait_for_provisioning", job=twin.previous_job_id)
        deadline = deadline_after(context, policy.teardown_timeout_seconds)
        while True:
            result = yield from call_step(
                context, "wait_for_provisioning", Activity.JOB_RUNTIME_STATUS, JobStatusQuery(twin.previous_job_id),
                policy, JobRuntimeStatus,
            )  # fmt: skip
            status = result.value if isinstance(result, JobRuntimeStatus) else None
            if status in _FINISHED:
                break
            if context.current_utc_datetime >= deadline:
                return (yield from fail(context, twin, StepError("wait_for_provisioning", "ProvisioningStillRunning",
                                 f"job {twin.previous_job_id} was still {status} at the teardown deadline")))  # fmt: skip
            yield from wait(context, policy.teardown_poll_seconds)
        if status == "Terminated":
            # A terminated job may have left an activity running; let the platform timeout end it.
            yield from wait(context, FUNCTION_TIMEOUT_SECONDS)

    for _ in range(DELETE_ROUNDS):
        progress(context, twin, "delete_resource_group")
        started = yield from call_arm_step(
            context, "delete_resource_group", Activity.BEGIN_DELETE_RESOURCE_GROUP, twin, policy, OperationBegun
        )
        match started:
            case Fenced():
                return {"status": "cancelled", "cloud_id": twin.cloud_id}
            case StepErrored(error):
                return (yield from fail(context, twin, error))
        url = started.operation_url
        deadline = deadline_after(context, policy.teardown_timeout_seconds)
        polls = 0
        while url:
            yield from wait(context, policy.teardown_poll_seconds)
            polls += 1
            state = yield from call_step(
                context, "delete_resource_group", Activity.POLL_DELETE, OperationPoll(twin, url), policy, OperationState
            )
            if isinstance(state, StepErrored):
                return (yield from fail(context, twin, state.error))
            if isinstance(state, OperationState) and state.done:
                if state.failed:
                    return (yield from fail(context, twin, StepError("delete_resource_group", state.code or "DeleteFailed",
                                     state.message or "ARM reported the delete as failed")))  # fmt: skip
                break
            if context.current_utc_datetime >= deadline:
                return (yield from fail(context, twin, StepError("delete_resource_group", "DeleteTimedOut",
                                 f"resource group still deleting after {policy.teardown_timeout_seconds:.0f}s")))  # fmt: skip
            progress(context, twin, "delete_resource_group", polls=polls)

        progress(context, twin, "verify_deleted")
        check = yield from call_step(
            context, "verify_deleted", Activity.RESOURCE_GROUP_EXISTS, twin, policy, GroupExists
        )
        if isinstance(check, StepErrored):
            return (yield from fail(context, twin, check.error))
        if not (isinstance(check, GroupExists) and check.exists):
            break
    else:
        return (yield from fail(context, twin, StepError("verify_deleted", "ResourceGroupStillExists",
                         f"the resource group came back {DELETE_ROUNDS} times; something still writes to it")))  # fmt: skip

    recorded = yield from call_step(context, "record_deleted", Activity.MARK_DELETED, twin, policy, Deleted)
    if isinstance(recorded, StepErrored):
        return (yield from fail(context, twin, recorded.error))
    if isinstance(recorded, Deleted):  # not fenced: this job recorded the end
        yield from emit(context, twin, Transition.DELETED)
    progress(context, twin, "deleted")
    return {"status": "deleted", "cloud_id": twin.cloud_id}
