"""Update one twin: publish new code (or refreshed settings), prove it runs, or go back to what ran.

    settings -> publish(deploy_ref) -> readiness (the twin reports the new deploy_ref) -> active on it
    on failure: publish(previous deploy_ref) -> readiness -> active again, the error recorded
                (errored only if the way back fails too)

The HTTP layer (or a rollout) has moved the row to ``updating`` for this job before starting us;
that fence stops us at the next step if a teardown takes the twin over.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.events import Transition
from controlplane.domain.jobs import TwinJob
from controlplane.domain.json_records import JsonObject
from controlplane.domain.step_outputs import Activated, Begun, Built, OperationState, Probe, PublishOutcome, Recorded
from controlplane.domain.step_requests import UPDATING_FENCE, ErrorRecord, FinishApp
from controlplane.domain.step_results import Fenced, StepErrored
from orchestrators.events import emit
from orchestrators.operations import OPERATION_TIMEOUT_SECONDS, await_operation
from orchestrators.publishing import await_ready, publish
from orchestrators.steps import StepFailed, call_arm_step, call_step, fail, progress

blueprint = df.Blueprint()


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.UPDATE)
def update_brainstem(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonObject]:
    twin = TwinJob.from_input(context.get_input())

    outcome = yield from move_to(context, twin, "publish")
    if isinstance(outcome, Fenced):
        return _cancelled(twin)
    if outcome is None:
        progress(context, twin, "activate")
        activated = yield from call_step(context, "activate", Activity.MARK_UPDATED, twin, twin.policy, Activated)
        match activated:
            case Fenced():
                return _cancelled(twin)
            case StepErrored(error):
                return (yield from fail(context, twin, error))
        yield from emit(context, twin, Transition.UPDATED, url=activated.url)
        progress(context, twin, "active", deploy_ref=twin.deploy_ref)
        return {"status": "active", "cloud_id": twin.cloud_id, "deploy_ref": twin.deploy_ref, "url": activated.url}

    error = outcome.error
    back = replace(
        twin, deploy_ref=twin.previous_deploy_ref or twin.deploy_ref, app_settings=twin.previous_app_settings
    )
    progress(context, twin, "rollback", failed_step=error.step, code=error.code, deploy_ref=back.deploy_ref)
    rollback = yield from move_to(context, back, "rollback")
    if isinstance(rollback, Fenced):
        return _cancelled(twin)
    failure = ErrorRecord(twin, error, rolled_back=rollback is None)
    yield from call_step(context, "record_error", Activity.MARK_UPDATE_FAILED, failure, twin.policy, Recorded)
    if rollback is not None:  # the way back failed too: the twin is errored, as after a failed create
        yield from emit(context, twin, Transition.ERRORED, error=error.to_dict())
    progress(context, twin, "rolled_back" if rollback is None else "errored", failed_step=error.step, code=error.code)
    raise StepFailed(error)


def move_to(
    context: df.DurableOrchestrationContext, twin: TwinJob, step: str
) -> Generator[Any, Any, Fenced | StepErrored | None]:
    """Publish ``twin.deploy_ref`` and wait until the twin proves it runs it: None, ``Fenced``, or ``StepErrored``.

    The site gets the current settings first (``publish_update`` sends its PUT, polled here on durable
    timers when ARM answers 202; ``finish_function_app`` then does what needs the made site); the code then goes the same way a
    new twin's does (``orchestrators.publishing``: config-zip's run-from-package, or One Deploy), and
    readiness asks the twin's own route which deploy_ref it runs."""
    progress(context, twin, step, deploy_ref=twin.deploy_ref)
    built = yield from call_arm_step(context, step, Activity.PUBLISH_UPDATE, twin, twin.policy, Begun)
    if isinstance(built, Begun) and built.operation_url:  # the site PUT answered 202
        polled = yield from await_operation(
            context, twin, step, built.operation_url, poll_seconds=twin.policy.operation_poll_seconds,
            timeout_seconds=OPERATION_TIMEOUT_SECONDS, fence=UPDATING_FENCE,
        )  # fmt: skip
        if not isinstance(polled, OperationState):
            return polled
    if not isinstance(built, Begun):
        return built
    finished = yield from call_arm_step(
        context, step, Activity.FINISH_FUNCTION_APP, twin, twin.policy, Built,
        request=lambda granted: FinishApp(granted, UPDATING_FENCE, step),
    )  # fmt: skip
    if not isinstance(finished, Built):
        return finished
    published = yield from publish(context, twin, step=step, fence=UPDATING_FENCE)
    if not isinstance(published, PublishOutcome):
        return published
    ready = yield from await_ready(context, twin)
    return None if isinstance(ready, Probe) else ready


def _cancelled(twin: TwinJob) -> JsonObject:
    return {"status": "cancelled", "cloud_id": twin.cloud_id}
