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

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from controlplane.domain.events import Transition
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.step_errors import StepError
from orchestrators.events import emit
from orchestrators.operations import OPERATION_TIMEOUT_SECONDS, await_operation
from orchestrators.publishing import await_ready, publish
from orchestrators.steps import call_arm_step, call_step, fail, progress

blueprint = df.Blueprint()

# (step, activity, what the activity takes beside the job: None for the job alone). The function app
# is three activities: the plan and the site are each begun and then polled here on durable timers
# (ARM may answer either PUT with 202 + Azure-AsyncOperation), and ``finish_function_app`` does what
# needs the made site (Flex: its identity's roles), so no activity slot waits while ARM works.
BUILD_STEPS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("names", "check_names", None),
    ("resource_group", "ensure_resource_group", None),
    ("storage_account", "ensure_storage_account", None),
    ("function_app", "ensure_function_plan", None),
    ("function_app", "begin_function_site", None),
    ("function_app", "finish_function_app", {"fence": "provisioning"}),
)


@blueprint.orchestration_trigger(context_name="context", orchestration="provision_brainstem")
def provision_brainstem(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    job = context.get_input()
    twin = BrainstemJob.from_input(job)
    yield from emit(context, twin, Transition.ACCEPTED)

    for step, activity, beside in BUILD_STEPS:
        progress(context, twin, step)
        result = yield from call_arm_step(context, step, activity, job, twin.policy, beside_job=beside)
        if result.get("fenced"):
            return (yield from _cancelled(context, twin, step))
        if result.get("operation_url"):  # begun, not finished: poll it here, holding no activity slot
            result = yield from await_operation(
                context, twin, job, step, result["operation_url"],
                poll_seconds=twin.policy.operation_poll_seconds, timeout_seconds=OPERATION_TIMEOUT_SECONDS,
            )  # fmt: skip
            if result.get("fenced"):
                return (yield from _cancelled(context, twin, step))
        if "error" in result:
            yield from fail(context, twin, job, StepError(**result["error"]))

    for step, helper in (("publish", publish), ("readiness", await_ready)):
        progress(context, twin, step)
        result = yield from helper(context, twin, job)
        if result.get("fenced"):
            return (yield from _cancelled(context, twin, step))
        if "error" in result:
            yield from fail(context, twin, job, StepError(**result["error"]))

    progress(context, twin, "activate")
    result = yield from call_step(context, "activate", "mark_active", job, twin.policy)
    if result.get("fenced"):
        return (yield from _cancelled(context, twin, "activate"))
    if "error" in result:
        yield from fail(context, twin, job, StepError(**result["error"]))
    yield from emit(context, twin, Transition.ACTIVE, url=result["url"])
    progress(context, twin, "active")
    return {"status": "active", "cloud_id": twin.cloud_id, "url": result["url"]}


def _cancelled(
    context: df.DurableOrchestrationContext, twin: BrainstemJob, step: str
) -> Generator[Any, Any, dict[str, Any]]:
    progress(context, twin, "cancelled", at_step=step)
    yield from ()  # a generator, so callers can `yield from` it like every other step
    return {"status": "cancelled", "cloud_id": twin.cloud_id, "at_step": step}
