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

from controlplane.domain.events import Transition
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.step_errors import StepError
from orchestrators.events import emit
from orchestrators.operations import OPERATION_TIMEOUT_SECONDS, await_operation
from orchestrators.publishing import await_ready, publish
from orchestrators.steps import StepFailed, call_arm_step, call_step, fail, progress

blueprint = df.Blueprint()
FENCED = "fenced"


@blueprint.orchestration_trigger(context_name="context", orchestration="update_brainstem")
def update_brainstem(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    job = context.get_input()
    twin = BrainstemJob.from_input(job)

    outcome = yield from move_to(context, twin, "publish")
    if outcome == FENCED:
        return _cancelled(twin)
    if outcome is None:
        progress(context, twin, "activate")
        result = yield from call_step(context, "activate", "mark_updated", job, twin.policy)
        if result.get("fenced"):
            return _cancelled(twin)
        if "error" in result:
            yield from fail(context, twin, job, StepError(**result["error"]))
        yield from emit(context, twin, Transition.UPDATED, url=result["url"])
        progress(context, twin, "active", deploy_ref=twin.deploy_ref)
        return {"status": "active", "cloud_id": twin.cloud_id, "deploy_ref": twin.deploy_ref, "url": result["url"]}

    assert isinstance(outcome, StepError)
    error = outcome
    back = replace(
        twin, deploy_ref=twin.previous_deploy_ref or twin.deploy_ref, app_settings=twin.previous_app_settings
    )
    progress(context, twin, "rollback", failed_step=error.step, code=error.code, deploy_ref=back.deploy_ref)
    rollback = yield from move_to(context, back, "rollback")
    if rollback == FENCED:
        return _cancelled(twin)
    failure = {"job": job, "error": error.to_dict(), "rolled_back": rollback is None}
    yield from call_step(context, "record_error", "mark_update_failed", failure, twin.policy)
    if rollback is not None:  # the way back failed too: the twin is errored, as after a failed create
        yield from emit(context, twin, Transition.ERRORED, error=error.to_dict())
    progress(context, twin, "rolled_back" if rollback is None else "errored", failed_step=error.step, code=error.code)
    raise StepFailed(error)


def move_to(
    context: df.DurableOrchestrationContext, twin: BrainstemJob, step: str
) -> Generator[Any, Any, StepError | str | None]:
    """Publish ``twin.deploy_ref`` and wait until the twin proves it runs it: None, FENCED, or the StepError.

    The site gets the current settings first (``publish_update`` sends its PUT, polled here on durable
    timers when ARM answers 202; ``finish_function_app`` then does what needs the made site); the code then goes the same way a
    new twin's does (``orchestrators.publishing``: config-zip's run-from-package, or One Deploy), and
    readiness asks the twin's own route which deploy_ref it runs."""
    job = twin.to_input()
    progress(context, twin, step, deploy_ref=twin.deploy_ref)
    built = yield from call_arm_step(context, step, "publish_update", job, twin.policy)
    if built.get("operation_url") and not (built.get("fenced") or "error" in built):  # the site PUT answered 202
        built = yield from await_operation(
            context, twin, job, step, built["operation_url"], poll_seconds=twin.policy.operation_poll_seconds,
            timeout_seconds=OPERATION_TIMEOUT_SECONDS, fence="updating",
        )  # fmt: skip
    if built.get("fenced") or "error" in built:
        return _outcome(built)
    finished = yield from call_arm_step(
        context, step, "finish_function_app", job, twin.policy, beside_job={"fence": "updating", "step": step}
    )
    if finished.get("fenced") or "error" in finished:
        return _outcome(finished)
    published = yield from publish(context, twin, job, step=step, fence="updating")
    if published.get("fenced") or "error" in published:
        return _outcome(published)
    return _outcome((yield from await_ready(context, twin, job)))


def _outcome(result: dict[str, Any]) -> StepError | str | None:
    if result.get("fenced"):
        return FENCED
    return StepError(**result["error"]) if "error" in result else None


def _cancelled(twin: BrainstemJob) -> dict[str, Any]:
    return {"status": "cancelled", "cloud_id": twin.cloud_id}
