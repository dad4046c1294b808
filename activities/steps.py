"""Running one ARM step: under the registry fence, with failures sorted into retry or stop."""

from __future__ import annotations

import logging
from collections.abc import Callable

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from activities.payloads import JsonObject
from controlplane.arm.errors import classify
from controlplane.arm.write_budget import spending
from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.domain.step_errors import StepFailure, TransientStepError
from controlplane.domain.step_requests import PROVISIONING_FENCE, UPDATING_FENCE
from controlplane.domain.step_results import Fenced, StepErrored, StepOutput
from controlplane.registry import default_registry

logger = logging.getLogger(__name__)
_STEP_FAILURES = (HttpResponseError, ServiceRequestError, ServiceResponseError, TimeoutError, StepFailure)


# The row status a step runs under: a new twin's, or a running twin's being moved to another deploy_ref.
FENCES = {PROVISIONING_FENCE: Status.PROVISIONING, UPDATING_FENCE: Status.UPDATING}


def fence_of(fence: str | None) -> Status:
    """The status a request's ``fence`` names (provisioning when it names none)."""
    return FENCES[fence or PROVISIONING_FENCE]


def fenced(job: TwinJob, while_status: Status) -> bool:
    """True when the row no longer belongs to this job in this status (another job took over)."""
    row = default_registry().get(job.cloud_id)
    return row.job_id != job.job_id or row.status != while_status


def run_step(step: str, job: TwinJob, action: Callable[[TwinNames], StepOutput], *, while_status: Status) -> JsonObject:
    """Run ``action`` unless fenced; its output's JSON (``controlplane.domain.step_results``: success,
    ``Fenced`` or ``StepErrored``). Transient ARM failures raise (durable retry); permanent ones return."""
    if fenced(job, while_status):
        logger.info("job %s no longer owns %s; skipping %s", job.job_id, job.cloud_id, step)
        return Fenced().to_json()
    try:
        with spending(job.arm_grant):  # the ARM requests the orchestration booked for this step
            return action(twin_names(job.name)).to_json()
    except _STEP_FAILURES as exc:
        error = classify(step, exc)
        logger.warning(
            "%s of %s failed: %s (status %s, transient=%s)",
            step,
            job.cloud_id,
            error.code,
            error.status,
            error.transient,
        )
        if error.transient:
            raise TransientStepError(error) from exc
        return StepErrored(error).to_json()
