"""Accepting an adoption (operators only) and showing its report.

``POST /api/cp/adoptions`` starts ``adopt_brainstems`` (orchestrators/adoption.py) over the
pool's subscriptions (or one of them); ``GET /api/cp/adoptions/{job_id}`` answers 202 while it runs
and 200 with the report once it has ended. A dry run lists what would be adopted and writes nothing.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from controlplane.auth import Principal, require_operator
from controlplane.domain.durable_names import Orchestration
from controlplane.domain.errors import InvalidInput
from controlplane.domain.loop_messages import AdoptionInput
from controlplane.domain.twin import validate_owner
from controlplane.service.errors import JobNotFound
from controlplane.service.jobs import new_job_id
from controlplane.settings import Settings
from controlplane.workflows import durable_calls
from controlplane.workflows.job_inputs import job_policy

ADOPT = Orchestration.ADOPT
_FIELDS = ("owner", "dry_run", "subscription_id", "lock")
_DONE = {"Completed", "Failed", "Terminated", "Canceled"}


def _operator(principal: Principal) -> None:
    require_operator(principal, "adopting twins")


def parse_adoption(body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field '{unknown[0]}'; adopt takes {', '.join(_FIELDS)}")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run", "dry_run must be true or false")
    lock = body.get("lock", False)  # opt-in: put the CanNotDelete lock on each adopted twin's group
    if not isinstance(lock, bool):
        raise InvalidInput("lock", "lock must be true or false")
    owner = validate_owner(body["owner"]) if "owner" in body else None  # null is not an owner
    pool = sorted({place.subscription_id for place in settings.subscription_pool})
    wanted = body.get("subscription_id")
    if "subscription_id" in body and wanted not in pool:
        raise InvalidInput("subscription_id", "subscription_id must be one of the pool's subscriptions")
    return {"owner": owner, "dry_run": dry_run, "lock": lock, "subscriptions": [wanted] if wanted else pool}


async def start(
    principal: Principal, body: dict[str, Any], client: df.DurableOrchestrationClient, settings: Settings
) -> dict[str, Any]:
    _operator(principal)
    request = parse_adoption(body, settings)
    job_id = new_job_id()
    job_input = AdoptionInput(
        request["subscriptions"], request["dry_run"], job_policy(settings), owner=request["owner"], lock=request["lock"]
    )
    await durable_calls.start_new(client, ADOPT, job_id, job_input.to_json())
    return {"job_id": job_id, "dry_run": request["dry_run"], "status": "running"}


async def view(principal: Principal, job_id: str, client: df.DurableOrchestrationClient) -> dict[str, Any]:
    _operator(principal)
    status = await durable_calls.get_status(client, job_id)
    if not status or status.runtime_status is None or status.name != ADOPT:
        raise JobNotFound(f"no adoption {job_id}", job_id=job_id)
    runtime = status.runtime_status.value
    view: dict[str, Any] = {"job_id": job_id, "runtime_status": runtime, "done": runtime in _DONE}
    if runtime == "Completed" and isinstance(status.output, dict):
        view["report"] = status.output
    elif runtime in ("Failed", "Terminated") and status.output:
        view["error"] = str(status.output)[:1000]
    return view
