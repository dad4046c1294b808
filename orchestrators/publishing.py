"""Publish a deploy_ref's code to a twin and wait until the twin proves it runs it. ``yield from`` helpers.

Both are shared by every workflow that puts code on a twin: provisioning, and an update (one twin, or
a rollout's) moving a running twin to another deploy_ref — the same publish path either way. Each
returns the last activity's output, ``Fenced``, or ``StepErrored`` for the caller to fail with.
Waiting is durable timers only: an orchestrator never sleeps.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity
from controlplane.domain.jobs import TwinJob
from controlplane.domain.step_errors import StepError
from controlplane.domain.step_outputs import Following, Probe, PublishOutcome
from controlplane.domain.step_requests import PROVISIONING_FENCE, PublishRequest
from controlplane.domain.step_results import Fenced, StepErrored
from orchestrators.steps import call_arm_step, call_step, deadline_after, progress, wait

# Readiness probes start soon after the code is published and back off to the policy's interval: a
# new app usually answers within seconds, and waiting a whole interval first would add it to every twin.
FIRST_PROBE_DELAY_SECONDS = 1.0


def publish(
    context: df.DurableOrchestrationContext, twin: TwinJob, *, step: str = "publish",
    fence: str = PROVISIONING_FENCE,
) -> Generator[Any, Any, PublishOutcome | Fenced | StepErrored]:  # fmt: skip
    """Run ``publish_code`` until the code is in place: follow a long deployment, wait out slow role grants.

    A One Deploy deployment is followed one status request per activity, on durable timers between
    them (``Retry-After`` when the scm site sends one, else the policy's ``deployment_poll_seconds``);
    what was seen (``following``: early 404s, whether it has answered, its last status) travels here,
    so a remote build that takes minutes holds no activity slot and loses nothing between activities.

    ``fence``: the row status the job must still own (``provisioning``, or ``updating`` for an update)."""
    deadline = deadline_after(context, twin.policy.publish_timeout_seconds)
    following: Following | None = None
    while True:
        if following is None:  # starting a publish writes to ARM (Consumption): book it in the budget
            result = yield from call_arm_step(
                context, step, Activity.PUBLISH_CODE, twin, twin.policy, PublishOutcome,
                request=lambda granted: PublishRequest(granted, fence),
            )  # fmt: skip
        else:  # following a One Deploy deployment asks the scm site, not ARM
            request = PublishRequest(twin, fence, following)
            result = yield from call_step(context, step, Activity.PUBLISH_CODE, request, twin.policy, PublishOutcome)
        if not isinstance(result, PublishOutcome) or result.done:
            return result
        if context.current_utc_datetime >= deadline:
            return StepErrored(StepError(
                step, "PublishTimedOut",
                f"the code for {twin.deploy_ref} was not in place within {twin.policy.publish_timeout_seconds:.0f}s"
                f" ({result.reason or 'deployment ' + str(result.deployment_id)})",
            ))  # fmt: skip
        following = result.following
        if following is not None:
            progress(context, twin, step, deployment=following.deployment_id, status=following.last_status)
            yield from wait(context, float(result.poll_after_seconds or twin.policy.deployment_poll_seconds))
        elif result.wait_seconds:  # refused by storage: start again once the roles may apply
            progress(context, twin, step, waiting_for="role assignment", reason=str(result.reason)[:200])
            yield from wait(context, float(result.wait_seconds))


def await_ready(
    context: df.DurableOrchestrationContext, twin: TwinJob
) -> Generator[Any, Any, Probe | Fenced | StepErrored]:
    """Probe the twin's readiness route until it runs ``twin.deploy_ref`` or the readiness timeout passes."""
    policy = twin.policy
    deadline = deadline_after(context, policy.readiness_timeout_seconds)
    probes, delay = 0, FIRST_PROBE_DELAY_SECONDS
    while True:
        probes += 1
        probe = yield from call_step(context, "readiness", Activity.PROBE_BRAINSTEM, twin, policy, Probe)
        if not isinstance(probe, Probe) or probe.ready:
            return probe
        if context.current_utc_datetime >= deadline:
            runs = probe.deploy_ref
            why = f"it runs {runs}, not {twin.deploy_ref}" if runs else f"last status {probe.status}"
            return StepErrored(StepError(
                "readiness", "NotReady",
                f"{twin.cloud_id} did not prove it runs {twin.deploy_ref} within "
                f"{policy.readiness_timeout_seconds:.0f}s ({probes} probes; {why})",
            ))  # fmt: skip
        progress(context, twin, "readiness", probes=probes, last_status=probe.status)
        yield from wait(context, min(delay, policy.probe_interval_seconds))
        delay *= 2
