"""Running one ARM step: under the registry fence, with failures sorted into retry or stop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from controlplane.arm_errors import StepFailure, TransientStepError, classify
from controlplane.jobs import TwinJob
from controlplane.lifecycle import Status
from controlplane.naming import TwinNames, twin_names
from controlplane.registry import default_registry

logger = logging.getLogger(__name__)
_STEP_FAILURES = (HttpResponseError, ServiceRequestError, ServiceResponseError, TimeoutError, StepFailure)


def fenced(job: TwinJob, while_status: Status) -> bool:
    """True when the row no longer belongs to this job in this status (another job took over)."""
    row = default_registry().get(job.cloud_id)
    return row.job_id != job.job_id or row.status != while_status


def run_step(
    step: str, job: TwinJob, action: Callable[[TwinNames], dict[str, Any]], *, while_status: Status
) -> dict[str, Any]:
    """Run ``action`` unless fenced. Transient ARM failures raise (durable retry); permanent ones return."""
    if fenced(job, while_status):
        logger.info("job %s no longer owns %s; skipping %s", job.job_id, job.cloud_id, step)
        return {"fenced": True}
    try:
        return action(twin_names(job.name))
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
        return {"error": error.to_dict()}
