"""Jobs: the Durable orchestration behind every accepted request, and how a caller sees one."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Orchestration
from controlplane.domain.twin import Twin
from controlplane.service.errors import JobNotFound
from controlplane.workflows import durable_calls

PROVISION = Orchestration.PROVISION
TEARDOWN = Orchestration.TEARDOWN
UPDATE = Orchestration.UPDATE
_KINDS = {PROVISION: "provision", TEARDOWN: "teardown", UPDATE: "update"}
_TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}


@dataclass(frozen=True)
class Accepted:
    """A job the caller should poll."""

    job_id: str
    row: Twin


def new_job_id() -> str:
    return uuid.uuid4().hex


async def job_exists(client: df.DurableOrchestrationClient, job_id: str) -> bool:
    status = await durable_calls.get_status(client, job_id)
    return bool(status) and status.runtime_status is not None


async def job_view(job_id: str, client: df.DurableOrchestrationClient) -> dict[str, Any]:
    status = await durable_calls.get_status(client, job_id, show_input=True)
    if not status or status.runtime_status is None or status.name not in _KINDS:
        raise JobNotFound(f"no job {job_id}", job_id=job_id)
    job_input = status.input_
    if isinstance(job_input, str):
        job_input = json.loads(job_input)
    custom = status.custom_status if isinstance(status.custom_status, dict) else None
    runtime = status.runtime_status.value
    output = status.output if runtime == "Completed" else None
    return {
        "job_id": job_id,
        "kind": _KINDS[status.name],
        "cloud_id": (job_input or {}).get("cloud_id"),
        "owner": (job_input or {}).get("owner"),
        "runtime_status": runtime,
        "step": custom.get("step") if custom else None,
        "custom_status": custom,
        "created_at": _iso(status.created_time),
        "last_updated_at": _iso(status.last_updated_time),
        "output": output if isinstance(output, dict) else None,
        "error": str(status.output) if runtime in ("Failed", "Terminated") and status.output else None,
        "done": runtime in _TERMINAL,
    }


def _iso(moment: Any) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
