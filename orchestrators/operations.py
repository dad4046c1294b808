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

from controlplane.domain.jobs import BrainstemJob
from orchestrators.steps import call_step, deadline_after, progress, wait

# How long a begun create may take before the twin errors (ARM's own creates take well under a minute).
OPERATION_TIMEOUT_SECONDS = 900.0


def await_operation(
    context: df.DurableOrchestrationContext, twin: BrainstemJob, job: dict[str, Any], step: str, url: str,
    *, poll_seconds: float, timeout_seconds: float, activity: str = "poll_arm_operation",
    fence: str = "provisioning",
) -> Generator[Any, Any, dict[str, Any]]:  # fmt: skip
    """Poll ``url`` every ``poll_seconds`` until ARM says done; ``{}`` on success, else an ``error`` or
    ``fenced`` result as any step returns. ``fence``: the row status the job must still own. History grows by four events a poll (timer, activity), bounded by the timeout."""
    deadline = deadline_after(context, timeout_seconds)
    polls = 0
    while True:
        yield from wait(context, poll_seconds)
        polls += 1
        request: dict[str, Any] = {"job": job, "operation_url": url, "step": step}
        if fence != "provisioning":  # the row status the job must still own (an update's: updating)
            request["fence"] = fence
        state = yield from call_step(context, step, activity, request, twin.policy)
        if "error" in state or state.get("fenced"):
            return state
        if state.get("done"):
            if state.get("failed"):
                code, message = state.get("code") or "OperationFailed", state.get("message") or "ARM reported failure"
                return {"error": {"step": step, "code": code, "message": message}}
            return {}
        if context.current_utc_datetime >= deadline:
            message = f"{step} still running after {timeout_seconds:.0f}s"
            return {"error": {"step": step, "code": "OperationTimedOut", "message": message}}
        progress(context, twin, step, polls=polls)
