"""Provision one twin: what provision-twin-lite.sh does, as a durable workflow.

    names -> resource_group -> storage_account -> function_app -> publish -> readiness -> active

Each long ARM operation (the storage account, the plan, the site) is begun in one activity and polled
here on durable timers (``orchestrators.operations``), as is a One Deploy deployment (``publish``).

``names`` checks the twin's global names (and its region) before anything exists, so a name held
elsewhere in Azure ends the create with nothing left behind. ``publish`` puts the deploy_ref's code
on the app the way Microsoft's tools do; ``readiness`` waits until the twin's own route says it runs
that deploy_ref (see orchestrators.publishing).

Every step is an idempotent activity, so a replay, a retry or a POST for an errored twin converges
on the same resources. Failing for good marks the row errored (step, ARM code and message) and
ends the orchestration Failed. A fenced step (a teardown took the twin over) ends it quietly.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.events import Transition
from controlplane.domain.jobs import TwinJob
from controlplane.domain.json_records import JsonObject
from controlplane.domain.step_outputs import Activated, Begun, Built, GroupEnsured, NamesChecked, OperationBegun
from controlplane.domain.step_requests import PROVISIONING_FENCE, FinishApp
from controlplane.domain.step_results import Fenced, StepErrored, StepOutput
from orchestrators.events import emit
from orchestrators.operations import OPERATION_TIMEOUT_SECONDS, await_operation
from orchestrators.publishing import await_ready, publish
from orchestrators.steps import call_arm_step, call_step, fail, progress

blueprint = df.Blueprint()


def _finish_request(granted: TwinJob) -> FinishApp:
    return FinishApp(granted, PROVISIONING_FENCE)


# (step, activity, its output, what it takes: None for the job alone). The function app is three
# activities: the plan and the site are each begun and then polled here on durable timers (ARM may
# answer either PUT with 202 + Azure-AsyncOperation), and ``finish_function_app`` does what needs the
# made site (Flex: its identity's roles), so no activity slot waits while ARM works.
BUILD_STEPS: tuple[tuple[str, Activity, type[StepOutput], Callable[[TwinJob], FinishApp] | None], ...] = (
    ("names", Activity.CHECK_NAMES, NamesChecked, None),
    ("resource_group", Activity.ENSURE_RESOURCE_GROUP, GroupEnsured, None),
    ("storage_account", Activity.ENSURE_STORAGE_ACCOUNT, OperationBegun, None),
    ("function_app", Activity.ENSURE_FUNCTION_PLAN, OperationBegun, None),
    ("function_app", Activity.BEGIN_FUNCTION_SITE, Begun, None),
    ("function_app", Activity.FINISH_FUNCTION_APP, Built, _finish_request),
)


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.PROVISION)
def provision_brainstem(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonObject]:
    twin = TwinJob.from_input(context.get_input())
    yield from emit(context, twin, Transition.ACCEPTED)

    for step, activity, output, request in BUILD_STEPS:
        progress(context, twin, step)
        result = yield from call_arm_step(context, step, activity, twin, twin.policy, output, request=request)
        if isinstance(result, OperationBegun) and result.operation_url:  # begun: poll it here, holding no slot
            result = yield from await_operation(
                context, twin, step, result.operation_url,
                poll_seconds=twin.policy.operation_poll_seconds, timeout_seconds=OPERATION_TIMEOUT_SECONDS,
            )  # fmt: skip
        match result:
            case Fenced():
                return (yield from _cancelled(context, twin, step))
            case StepErrored(error):
                return (yield from fail(context, twin, error))

    for step, helper in (("publish", publish), ("readiness", await_ready)):
        progress(context, twin, step)
        match (yield from helper(context, twin)):
            case Fenced():
                return (yield from _cancelled(context, twin, step))
            case StepErrored(error):
                return (yield from fail(context, twin, error))

    progress(context, twin, "activate")
    activated = yield from call_step(context, "activate", Activity.MARK_ACTIVE, twin, twin.policy, Activated)
    match activated:
        case Fenced():
            return (yield from _cancelled(context, twin, "activate"))
        case StepErrored(error):
            return (yield from fail(context, twin, error))
    yield from emit(context, twin, Transition.ACTIVE, url=activated.url)
    progress(context, twin, "active")
    return {"status": "active", "cloud_id": twin.cloud_id, "url": activated.url}


def _cancelled(context: df.DurableOrchestrationContext, twin: TwinJob, step: str) -> Generator[Any, Any, JsonObject]:
    progress(context, twin, "cancelled", at_step=step)
    yield from ()  # a generator, so callers can `yield from` it like every other step
    return {"status": "cancelled", "cloud_id": twin.cloud_id, "at_step": step}
