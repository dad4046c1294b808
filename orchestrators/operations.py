"""Waiting out a long-running ARM operation on durable timers: the activity that began it has ended.

ARM answers a create with 201/202 and an operation URL (Azure/azure-resource-manager-rpc,
async-api-reference.md). Holding an activity while ARM works costs a slot of the app's
``maxConcurrentActivityFunctions`` for the whole create (20-60 s for a storage account); polling from
the orchestration costs one short GET per poll and no slot in between (a waiting orchestration is
unloaded: Learn, "Performance and scale in Durable Functions"). The teardown's delete polls the same way.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity
from controlplane.domain.jobs import TwinJob
from controlplane.domain.step_errors import StepError
from controlplane.domain.step_outputs import OperationState
from controlplane.domain.step_requests import PROVISIONING_FENCE, OperationPoll
from controlplane.domain.step_results import Fenced, StepErrored
from orchestrators.steps import call_step, deadline_after, progress, wait

# How long a begun create may take before the twin errors (ARM's own creates take well under a minute).
OPERATION_TIMEOUT_SECONDS = 900.0


def await_operation(
    context: df.DurableOrchestrationContext, twin: TwinJob, step: str, url: str,
    *, poll_seconds: float, timeout_seconds: float, fence: str = PROVISIONING_FENCE,
) -> Generator[Any, Any, OperationState | Fenced | StepErrored]:  # fmt: skip
    """Poll ``url`` every ``poll_seconds`` until ARM says done: its final state, ``Fenced``, or ``StepErrored``
    (ARM's failure, or still running at the timeout). ``fence``: the row status the job must still own.
    History grows by four events a poll (timer, activity), bounded by the timeout."""
    deadline = deadline_after(context, timeout_seconds)
    polls = 0
    # The row status the job must still own travels only when it is not a create's (an update's: updating).
    fence_named = None if fence == PROVISIONING_FENCE else fence
    while True:
        yield from wait(context, poll_seconds)
        polls += 1
        request = OperationPoll(twin, url, step=step, fence=fence_named)
        state = yield from call_step(context, step, Activity.POLL_ARM_OPERATION, request, twin.policy, OperationState)
        if not isinstance(state, OperationState):
            return state
        if state.done:
            if state.failed:
                code, message = state.code or "OperationFailed", state.message or "ARM reported failure"
                return StepErrored(StepError(step, code, message))
            return state
        if context.current_utc_datetime >= deadline:
            message = f"{step} still running after {timeout_seconds:.0f}s"
            return StepErrored(StepError(step, "OperationTimedOut", message))
        progress(context, twin, step, polls=polls)
