"""HTTP-triggered functions under /api/cp. Each route: authenticate -> read -> service -> answer.

Every route runs inside ``guarded()`` (sync) or ``guarded_async()``: the doorman names the caller
first, then our exceptions become problem+json and anything unexpected a bare 500, so no route can
skip authentication, leak a stack trace or forget the error contract.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.durable_functions as df
import azure.functions as func
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from controlplane.auth import Principal, can_see, owner_for_create
from controlplane.domain.audit import Action
from controlplane.domain.errors import ControlPlaneError, DependencyUnavailable
from controlplane.domain.naming import is_cloud_id
from controlplane.domain.twin import Twin
from controlplane.registry import default_registry
from controlplane.service import creation, jobs, queries, soft_delete, teardown
from controlplane.service.errors import JobNotFound
from controlplane.settings import get_settings
from controlplane.telemetry import annotate, http_span, log_answered_error
from http_api.audit import principal_id, record_refusal
from http_api.bodies import parse_create
from http_api.change_log import begin_request, record_change
from http_api.doorman import authenticate
from http_api.problems import internal_error_response, problem_response

logger = logging.getLogger(__name__)
# Anonymous at the host: the doorman authenticates in code (keys, bearer tokens, App Service auth).
blueprint = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)

JOB_ID_LENGTH = 32
OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


Work = Callable[[Principal], func.HttpResponse]
AsyncWork = Callable[[Principal], Awaitable[func.HttpResponse]]


def _route_name(work: Callable[..., Any]) -> str:
    """The route function's name (``create_brainstem.<locals>.work`` -> ``create_brainstem``), for its span."""
    return work.__qualname__.split(".", 1)[0]


async def guarded_async(req: func.HttpRequest, work: AsyncWork) -> func.HttpResponse:
    with http_span(_route_name(work), req) as outcome:
        principal = None
        request_id = begin_request()  # the key of any change this request records (http_api.change_log)
        try:
            # Authentication may fetch an issuer's keys over the network: never on the event loop.
            principal = _named(await asyncio.to_thread(authenticate, req))
            outcome.response = await work(principal)
        except Exception as exc:  # noqa: BLE001 - the one place that turns every failure into a problem
            outcome.response = _failure(req, exc, principal)
        outcome.response.headers["x-request-id"] = request_id
        return outcome.response


def guarded(req: func.HttpRequest, work: Work) -> func.HttpResponse:
    """``guarded_async`` for synchronous routes (the worker runs them on its thread pool)."""
    with http_span(_route_name(work), req) as outcome:
        principal = None
        request_id = begin_request()
        try:
            principal = _named(authenticate(req))
            outcome.response = work(principal)
        except Exception as exc:  # noqa: BLE001
            outcome.response = _failure(req, exc, principal)
        outcome.response.headers["x-request-id"] = request_id
        return outcome.response


def _named(principal: Principal) -> Principal:
    annotate(owner=principal.owner)  # an owner caller's id on the span and its logs (operators have none)
    return principal


def _failure(req: func.HttpRequest, exc: Exception, principal: Principal | None) -> func.HttpResponse:
    if _storage_unreachable(exc):  # after azure-core's retries: a 503 the caller may retry, not a 500
        logger.warning("Table Storage unreachable: %s", type(exc).__name__)
        exc = DependencyUnavailable("Table Storage (the registry) does not answer; try again", dependency="registry")
        exc.headers = {"Retry-After": str(get_settings().retry_after_seconds)}  # type: ignore[attr-defined]
    if isinstance(exc, ControlPlaneError):
        record_refusal(req, exc, principal)
        log_answered_error(exc)
        return problem_response(exc, getattr(exc, "headers", None))
    logger.exception("unexpected failure", exc_info=exc)
    return internal_error_response()


def _storage_unreachable(exc: Exception) -> bool:
    """No answer from storage (refused, reset, timed out), or a 5xx from it: the registry is down, not us."""
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return True
    return isinstance(exc, HttpResponseError) and exc.status_code is not None and exc.status_code >= 500


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json", headers=headers)


def api_url(path: str) -> str:
    """An absolute URL of ours from configuration (relative when none is set); never from the Host header."""
    origin = get_settings().public_origin
    return f"{origin}{path}" if origin else path


def accepted_response(accepted: jobs.Accepted) -> func.HttpResponse:
    """202 pointing at our own status monitor for the job.

    Never Durable's management URLs: each carries the extension's system key, which opens every
    instance in the task hub (read any input, list all, terminate, purge, raise events) — a key to
    every other tenant's work. Callers, operators included, follow the job through this API.
    """
    job = api_url(f"/api/cp/brainstems/{accepted.job_id}")
    body = {
        "job_id": accepted.job_id,
        "cloud_id": accepted.row.cloud_id,
        "status": accepted.row.status.value,
        "links": {"job": job, "brainstem": api_url(f"/api/cp/brainstems/{accepted.row.cloud_id}")},
    }
    return json_response(body, 202, {"Location": job, "Retry-After": str(get_settings().retry_after_seconds)})


def is_job_id(value: str) -> bool:
    return len(value) == JOB_ID_LENGTH and all(c in "0123456789abcdef" for c in value)


@blueprint.route(route="cp/brainstems", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
async def create_brainstem(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        request = parse_create(req)
        owner = owner_for_create(principal, request.owner)
        settings = get_settings()
        quota = creation.quota_for(principal, settings)
        accepted = await creation.create(request, owner, default_registry(), client, settings, quota=quota)
        await asyncio.to_thread(
            record_change, principal, Action.CREATE, cloud_id=accepted.row.cloud_id, owner=accepted.row.owner,
            job_id=accepted.job_id, detail={"deploy_ref": accepted.row.deploy_ref or ""},
        )  # fmt: skip
        return accepted_response(accepted)

    return await guarded_async(req, work)


@blueprint.route(route="cp/brainstems", methods=["GET"])
def list_brainstems(req: func.HttpRequest) -> func.HttpResponse:
    def work(principal: Principal) -> func.HttpResponse:
        page = queries.list_page(principal, query_parameters(req), default_registry())
        return json_response({"items": [row.to_dict() for row in page.items], "next": page.next})

    return guarded(req, work)


def query_parameters(req: func.HttpRequest) -> dict[str, str]:
    """The query as the caller sent it, empty values included.

    The Functions host drops empty query entries before the worker sees them (its ``ToRpcHttp``; see
    sandbox/worker/http.py) but keeps them in the URL: read them there, so ``?status=`` is refused
    as the document refuses it instead of silently meaning "no filter". The last value of a repeated name wins.
    """
    return {**dict(req.params), **dict(parse_qsl(urlsplit(req.url).query, keep_blank_values=True))}


def visible_row(principal: Principal, cloud_id: str) -> Twin:
    return queries.visible_twin(principal, cloud_id, default_registry())


@blueprint.route(route="cp/brainstems/{id}", methods=["GET"])
@blueprint.durable_client_input(client_name="client")
async def get_brainstem(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        identifier = req.route_params.get("id", "")
        if is_cloud_id(identifier):
            return json_response((await asyncio.to_thread(visible_row, principal, identifier)).to_dict())
        if is_job_id(identifier):
            job = await jobs.job_view(identifier, client)
            if not can_see(principal, job.get("owner") or ""):
                hidden = JobNotFound(f"no job {identifier}", job_id=identifier)
                hidden.another_owner = True
                raise hidden
            if job["done"]:
                return json_response(job)
            # Still running: the asynchronous-operation convention (Durable's own status endpoint,
            # Azure's Location polling): 202, where to look again, and when.
            headers = {
                "Location": api_url(f"/api/cp/brainstems/{identifier}"),
                "Retry-After": str(get_settings().retry_after_seconds),
            }
            return json_response(job, 202, headers)
        raise JobNotFound(
            "an id is a cloud_id (twin-<name>-<hash6>) or a job_id (32 lowercase hex characters)", field="id"
        )

    return await guarded_async(req, work)


@blueprint.route(route="cp/brainstems/{cloud_id}", methods=["DELETE"])
@blueprint.durable_client_input(client_name="client")
async def delete_brainstem(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    async def work(principal: Principal) -> func.HttpResponse:
        cloud_id = _cloud_id(req)
        row = await asyncio.to_thread(visible_row, principal, cloud_id)
        confirm = req.params.get("confirm")
        await asyncio.to_thread(
            soft_delete.check_delete_rate, principal, principal_id(principal), default_registry(), get_settings(),
            confirm=confirm,
        )  # fmt: skip
        accepted = await teardown.delete(cloud_id, default_registry(), client, get_settings())
        await asyncio.to_thread(
            record_change, principal, Action.DELETE, cloud_id=cloud_id, owner=row.owner, job_id=accepted.job_id
        )
        return accepted_response(accepted)

    return await guarded_async(req, work)


@blueprint.route(route="cp/brainstems/{cloud_id}/restore", methods=["POST"])
@blueprint.durable_client_input(client_name="client")
async def restore_brainstem(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Cancel a pending delete (CP_DELETE_GRACE_SECONDS): the twin, which never stopped, stays as it is."""

    async def work(principal: Principal) -> func.HttpResponse:
        cloud_id = _cloud_id(req)
        await asyncio.to_thread(visible_row, principal, cloud_id)
        restored, cancelled = await soft_delete.restore(cloud_id, default_registry(), client)
        if cancelled:  # a restore of a twin not pending delete changes nothing: no record
            await asyncio.to_thread(record_change, principal, Action.RESTORE, cloud_id=cloud_id, owner=restored.owner)
        return json_response(restored.to_dict())

    return await guarded_async(req, work)


@blueprint.route(route="cp/brainstems/{cloud_id}/wake", methods=["POST"])
def wake_brainstem(req: func.HttpRequest) -> func.HttpResponse:
    """Probe an active twin's URL once, so a cold Consumption app boots for its caller.

    The control plane never proxies the twin's traffic: it answers the URL and how long the wake took.
    """

    def work(principal: Principal) -> func.HttpResponse:
        row = visible_row(principal, _cloud_id(req))
        return json_response(queries.wake(row, default_registry()))

    return guarded(req, work)


def _cloud_id(req: func.HttpRequest) -> str:
    cloud_id: str = req.route_params.get("cloud_id", "")
    if not is_cloud_id(cloud_id):
        raise JobNotFound("this route takes a cloud_id (twin-<name>-<hash6>)", field="cloud_id")
    return cloud_id


@blueprint.route(route="cp/health", methods=["GET"])
async def health(req: func.HttpRequest) -> func.HttpResponse:
    """Fleet counts (16 count shards: O(1) at any fleet size) and whether the registry answers. Operators only."""

    async def work(principal: Principal) -> func.HttpResponse:
        return json_response(await asyncio.to_thread(queries.fleet_health, principal, default_registry))

    return await guarded_async(req, work)


@blueprint.route(route="cp/openapi.yaml", methods=["GET"])
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The API's contract: public, like any published API description."""
    return func.HttpResponse(OPENAPI_PATH.read_bytes(), status_code=200, mimetype="application/yaml")
