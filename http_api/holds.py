"""HTTP functions for holds: pin a twin at its version (PUT) and lift the pin (DELETE).

An operator, or the twin's owner (who may see it: another owner's twin is a 404, as everywhere).
"""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from controlplane.auth import Principal
from controlplane.domain.audit import Action
from controlplane.registry import default_registry
from controlplane.service import holds
from http_api.bodies import read_json_body
from http_api.change_log import record_change
from http_api.routes import _cloud_id, guarded_async, json_response, visible_row

blueprint = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)


@blueprint.route(route="cp/brainstems/{cloud_id}/hold", methods=["PUT"])
async def put_hold(req: func.HttpRequest) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        cloud_id = _cloud_id(req)
        await asyncio.to_thread(visible_row, principal, cloud_id)
        body = read_json_body(req)
        row = await asyncio.to_thread(holds.put_hold, principal, cloud_id, body, default_registry())
        detail = {"reason": str((row.hold or {}).get("reason", "")), "until": str((row.hold or {}).get("until") or "")}
        await asyncio.to_thread(
            record_change, principal, Action.HOLD, cloud_id=cloud_id, owner=row.owner, detail=detail
        )
        return json_response(row.to_dict())

    return await guarded_async(req, work)


@blueprint.route(route="cp/brainstems/{cloud_id}/hold", methods=["DELETE"])
async def lift_hold(req: func.HttpRequest) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        cloud_id = _cloud_id(req)
        await asyncio.to_thread(visible_row, principal, cloud_id)
        row = await asyncio.to_thread(holds.lift_hold, cloud_id, default_registry())
        await asyncio.to_thread(record_change, principal, Action.RELEASE, cloud_id=cloud_id, owner=row.owner)
        return json_response(row.to_dict())

    return await guarded_async(req, work)
