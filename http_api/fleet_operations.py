"""HTTP functions for day-two operations: update one twin (PATCH), fleet rollouts and adoption (operators).

Same contract as every route: the doorman first, problems as problem+json, a job's 202 points at
our own status monitor.
"""

from __future__ import annotations

import asyncio
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from controlplane.auth import Principal
from controlplane.domain.audit import Action
from controlplane.registry import default_registry
from controlplane.service import adoption, rollouts, updates
from controlplane.service.errors import JobNotFound
from controlplane.settings import get_settings
from http_api.bodies import read_json_body
from http_api.change_log import record_change
from http_api.routes import (
    _cloud_id,
    accepted_response,
    api_url,
    guarded_async,
    is_job_id,
    json_response,
    visible_row,
)  # fmt: skip

blueprint = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)
_ROLLOUT_ID_LENGTH = 32


@blueprint.route(route="cp/brainstems/{cloud_id}", methods=["PATCH"])
@blueprint.durable_client_input(client_name="client")
async def patch_brainstem(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Move one twin to a new deploy_ref, or re-apply the operator's current settings to it."""

    async def work(principal: Principal) -> func.HttpResponse:
        cloud_id = _cloud_id(req)
        await asyncio.to_thread(visible_row, principal, cloud_id)
        deploy_ref, changes = updates.parse_update(read_json_body(req))
        accepted = await updates.update(
            cloud_id, deploy_ref, default_registry(), client, get_settings(), app_settings=changes
        )
        detail = {"deploy_ref": deploy_ref or "", "app_settings": ",".join(sorted(changes or {}))}  # names only
        await asyncio.to_thread(
            record_change, principal, Action.UPDATE, cloud_id=cloud_id, owner=accepted.row.owner,
            job_id=accepted.job_id, detail=detail,
        )  # fmt: skip
        return accepted_response(accepted)

    return await guarded_async(req, work)


@blueprint.route(route="cp/brainstems/{cloud_id}/repair", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
async def repair_brainstem(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Configuration drift: re-publish the registered version and settings, and put the group's tags back."""

    async def work(principal: Principal) -> func.HttpResponse:
        cloud_id = _cloud_id(req)
        await asyncio.to_thread(visible_row, principal, cloud_id)
        accepted = await updates.update(cloud_id, None, default_registry(), client, get_settings(), repair=True)
        await asyncio.to_thread(
            record_change, principal, Action.REPAIR, cloud_id=cloud_id, owner=accepted.row.owner,
            job_id=accepted.job_id, detail={"deploy_ref": accepted.row.deploy_ref},
        )  # fmt: skip
        return accepted_response(accepted)

    return await guarded_async(req, work)


@blueprint.route(route="cp/rollouts", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
async def start_rollout(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        record = await rollouts.start(principal, read_json_body(req), default_registry(), client, get_settings())
        if record.get("dry_run"):  # the plan: nothing started, nothing to record
            return json_response(record)
        detail = {"deploy_ref": str(record.get("deploy_ref") or "")}
        await asyncio.to_thread(
            record_change, principal, Action.ROLLOUT_START, rollout_id=record["rollout_id"], detail=detail
        )
        return _accepted_at(record, f"/api/cp/rollouts/{record['rollout_id']}")

    return await guarded_async(req, work)


@blueprint.route(route="cp/rollouts", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
async def list_rollouts(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        return json_response(await asyncio.to_thread(rollouts.list_rollouts, principal, default_registry()))

    return await guarded_async(req, work)


@blueprint.route(route="cp/rollouts/{rollout_id}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
async def get_rollout(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        return json_response(await asyncio.to_thread(rollouts.get, principal, _rollout_id(req), default_registry()))

    return await guarded_async(req, work)


@blueprint.route(route="cp/rollouts/{rollout_id}/{action}", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
async def control_rollout(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        action: str = req.route_params.get("action", "")
        rollout_id = _rollout_id(req)
        record = await rollouts.control(principal, rollout_id, action, default_registry(), client)
        await asyncio.to_thread(
            record_change, principal, Action.ROLLOUT_CONTROL, rollout_id=rollout_id, detail={"action": action}
        )
        return json_response(record)

    return await guarded_async(req, work)


def _accepted_at(body: dict[str, Any], path: str) -> func.HttpResponse:
    """202 for work that goes on: where to follow it, and when to ask first."""
    headers = {"Location": api_url(path), "Retry-After": str(get_settings().retry_after_seconds)}
    return json_response(body, 202, headers)


def _rollout_id(req: func.HttpRequest) -> str:
    rollout_id: str = req.route_params.get("rollout_id", "")
    if len(rollout_id) != _ROLLOUT_ID_LENGTH or not all(c in "0123456789abcdef" for c in rollout_id):
        raise rollouts.RolloutNotFound("a rollout id is 32 lowercase hex characters", field="rollout_id")
    return rollout_id


@blueprint.route(route="cp/adoptions", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
async def start_adoption(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Adopt the twins made outside the control plane (or, with dry_run, list them). Operators only."""

    async def work(principal: Principal) -> func.HttpResponse:
        accepted = await adoption.start(principal, read_json_body(req, optional=True), client, get_settings())
        if not accepted["dry_run"]:  # a dry run lists, it changes nothing
            await asyncio.to_thread(record_change, principal, Action.ADOPT, adoption_id=accepted["job_id"])
        accepted["links"] = {"self": api_url(f"/api/cp/adoptions/{accepted['job_id']}")}
        return _accepted_at(accepted, f"/api/cp/adoptions/{accepted['job_id']}")

    return await guarded_async(req, work)


@blueprint.route(route="cp/adoptions/{job_id}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
async def get_adoption(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        job_id: str = req.route_params.get("job_id", "")
        if not is_job_id(job_id):
            raise JobNotFound(f"no adoption {job_id[:64]}", job_id=job_id[:64])
        found = await adoption.view(principal, job_id, client)
        if not found["done"]:
            return json_response(found, 202, {"Retry-After": str(get_settings().retry_after_seconds)})
        return json_response(found)

    return await guarded_async(req, work)
