"""The Durable extension's HTTP API on loopback, so the SDK's real ``DurableOrchestrationClient`` works.

The client is built from a JSON string the host injects (the ``durableClient`` binding) and reaches the
extension only over HTTP at ``rpcBaseUrl``. This server answers those calls from an
``OrchestrationDriver``, with the routes, status codes and JSON bodies of the extension's
``HttpApiHandler``: start (202 + management links, 409 if the id is still running, 400 for an unknown
orchestrator), status (202 while running with ``Location``/``Retry-After``, 200 once terminal — also
for Failed unless ``returnInternalServerErrorOnFailure=true`` — 404 if unknown), list, terminate
(202/404/410), raise event (202/400/404/410) and purge (200/404/412). The same routes are served under
``/runtime/webhooks/durabletask/`` so the ``statusQueryGetUri`` links a starter returns can be polled.

It runs aiohttp (HTTP/1.1, keep-alive, as the SDK's pooled session expects) on its own background loop.
HTTP-triggered functions are invoked through :func:`invoke_http_function`, which passes the binding JSON
the way the worker does and runs async functions on one persistent loop, so the SDK's module-global
aiohttp session never meets a second loop.
"""

from __future__ import annotations

import hmac
import json
import urllib.parse
from typing import Any

import azure.functions as func
from aiohttp import web

from sandbox.durable import history as h
from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.errors import (
    FunctionNotFoundError,
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InstanceNotRunningError,
    InstanceStillRunningError,
)
from sandbox.durable.event_loop import BackgroundLoop, shared_loop
from sandbox.durable.functions import as_http_response, call_user_function, http_binding_names, with_context_parameter
from sandbox.durable.instance import TERMINAL, OrchestrationResult

RPC_PREFIX = "/durabletask"
WEBHOOK_PREFIX = "/runtime/webhooks/durabletask"
INSTANCE_ID_PLACEHOLDER = "INSTANCEID"  # what the extension puts in managementUrls; the SDK replaces it


def management_urls(base_url: str, instance_id: str, *, task_hub: str, connection: str, code: str | None) -> dict:
    """The extension's ``HttpManagementPayload`` for one instance (``GetClientResponseLinks``)."""
    instance = f"{base_url.rstrip('/')}{WEBHOOK_PREFIX}/instances/{urllib.parse.quote(instance_id, safe='')}"
    query = f"taskHub={urllib.parse.quote(task_hub)}&connection={urllib.parse.quote(connection)}"
    if code:
        query += f"&code={urllib.parse.quote(code)}"
    return {
        "id": instance_id,
        "purgeHistoryDeleteUri": f"{instance}?{query}",
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
        "statusQueryGetUri": f"{instance}?{query}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
        "restartPostUri": f"{instance}/restart?{query}",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
    }


def client_binding_json(
    *,
    rpc_base_url: str,
    http_base_url: str,
    task_hub: str = "TestHubName",
    connection: str = "Storage",
    code: str | None = "sandbox-system-key",
) -> str:
    """The ``durableClient`` binding payload the host injects (``BindingHelper.DurableOrchestrationClientToString``)."""
    base = http_base_url.rstrip("/") + WEBHOOK_PREFIX
    query = f"code={urllib.parse.quote(code)}" if code else ""
    orchestrators = base + "/orchestrators/{functionName}[/{instanceId}]"
    payload = {
        "taskHubName": task_hub,
        "connectionName": None,
        "creationUrls": {
            "createNewInstancePostUri": f"{orchestrators}?{query}",
            "createAndWaitOnNewInstancePostUri": (
                f"{orchestrators}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{query}"
            ),
        },
        "managementUrls": management_urls(
            http_base_url, INSTANCE_ID_PLACEHOLDER, task_hub=task_hub, connection=connection, code=code
        ),
        "baseUrl": base,
        "requiredQueryStringParameters": query,
        "rpcBaseUrl": rpc_base_url,
    }
    return json.dumps(payload)


def invoke_http_function(
    function: Any, request: func.HttpRequest, client_json: str | None, *, loop: BackgroundLoop | None = None
) -> func.HttpResponse:
    """Call an HTTP-triggered function registered on a DFApp the way the Python worker does.

    ``function`` is an entry of ``app.get_functions()``. Its user function is DFApp's async
    ``df_client_middleware`` when it has a durable client binding (it builds the client from the JSON
    string), so it runs on ``loop`` (default: the process-wide background loop). Call from a plain
    thread, never from inside that loop.
    """
    request_name, client_name = http_binding_names(function)
    kwargs: dict[str, Any] = {request_name: request}
    if client_name is not None:
        kwargs[client_name] = client_json
    user_function = function.get_user_function()
    with_context_parameter(user_function, kwargs, function.get_function_name())
    runner = (loop or shared_loop()).run
    return as_http_response(call_user_function(user_function, kwargs, run_coroutine=runner))


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # .NET ToString("s") + "Z"


def status_payload(result: OrchestrationResult, *, show_input: bool = True, show_history: bool = False) -> dict:
    """The extension's ``StatusResponsePayload`` for one instance."""
    payload: dict[str, Any] = {
        "name": result.name,
        "instanceId": result.instance_id,
        "runtimeStatus": result.status,
        "input": result.input_wire if show_input else None,
        "customStatus": result.custom_status,
        "output": result.output,
        "createdTime": _iso(result.created_time),
        "lastUpdatedTime": _iso(result.last_updated_time),
    }
    if show_history:
        payload["historyEvents"] = result.history
    return payload


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    return default if value is None else value.lower() == "true"


class DurableClientServer:
    """Serve the extension's HTTP API for ``driver`` on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        driver: OrchestrationDriver,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        task_hub: str = "TestHubName",
        connection: str = "Storage",
        code: str | None = "sandbox-system-key",
    ) -> None:
        self.driver = driver
        self.host, self.port = host, port
        self.task_hub, self.connection, self.code = task_hub, connection, code
        self._loop: BackgroundLoop | None = None
        self._runner: web.AppRunner | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> DurableClientServer:
        self._loop = BackgroundLoop(name="durable-client-server")
        self._loop.run(self._start())
        self.driver.client_binding = self.client_binding_json()
        return self

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._system_key_required])
        for prefix in (RPC_PREFIX, WEBHOOK_PREFIX):
            app.router.add_post(prefix + "/orchestrators/{function_name}", self._start_instance)
            app.router.add_post(prefix + "/orchestrators/{function_name}/{instance_id}", self._start_instance)
            app.router.add_get(prefix + "/instances", self._list)
            app.router.add_get(prefix + "/instances/", self._list)
            app.router.add_get(prefix + "/instances/{instance_id}", self._status)
            app.router.add_delete(prefix + "/instances/{instance_id}", self._purge)
            app.router.add_delete(prefix + "/instances", self._purge_by)
            app.router.add_delete(prefix + "/instances/", self._purge_by)
            app.router.add_post(prefix + "/instances/{instance_id}/terminate", self._terminate)
            app.router.add_post(prefix + "/instances/{instance_id}/raiseEvent/{event_name}", self._raise_event)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @web.middleware
    async def _system_key_required(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The public webhooks answer only with the extension's system key, as on the Functions host.

        Learn, "Durable Functions HTTP API reference": these APIs "are extensibility webhooks that the
        Azure Functions host authorizes"; every call needs ``systemKey`` (the ``code`` query parameter
        of the URLs the client binding makes, or the ``x-functions-key`` header, as for any Functions
        key). Without it the host answers 401 and the extension never sees the call: no status, no
        listing of instances, no terminate, purge or event. The ``rpcBaseUrl`` API (RPC_PREFIX) is the
        host's local channel for the app's own client binding and takes no key.
        """
        if request.path.startswith(WEBHOOK_PREFIX) and self.code is not None:
            given = request.query.get("code") or request.headers.get("x-functions-key") or ""
            if not hmac.compare_digest(given.encode(), self.code.encode()):
                return web.Response(status=401)
        result: web.StreamResponse = await handler(request)
        return result

    def close(self) -> None:
        if self._loop is None:
            return
        if self._runner is not None:
            self._loop.run(self._runner.cleanup())
        self._loop.close()
        self._loop = None

    def __enter__(self) -> DurableClientServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- what functions get --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rpc_base_url(self) -> str:
        return f"{self.base_url}{RPC_PREFIX}/"

    def client_binding_json(self, http_base_url: str | None = None) -> str:
        """The binding JSON, with public links on ``http_base_url`` (default: this server, which serves them)."""
        return client_binding_json(
            rpc_base_url=self.rpc_base_url,
            http_base_url=http_base_url or self.base_url,
            task_hub=self.task_hub,
            connection=self.connection,
            code=self.code,
        )

    def invoke_http_function(self, function: Any, request: func.HttpRequest) -> func.HttpResponse:
        return invoke_http_function(function, request, self.client_binding_json())

    # ---- handlers --------------------------------------------------------------------------------------

    def _links(self, request: web.Request, instance_id: str) -> dict:
        origin = f"{request.scheme}://{request.host}"
        return management_urls(origin, instance_id, task_hub=self.task_hub, connection=self.connection, code=self.code)

    async def _start_instance(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            input_wire = json.loads(body) if body.strip() else None
        except ValueError:
            return web.json_response({"Message": "Invalid JSON content"}, status=400)
        try:
            instance_id = self.driver.start_wire(
                request.match_info["function_name"], input_wire, instance_id=request.match_info.get("instance_id")
            )
        except FunctionNotFoundError as exc:
            message = "One or more of the arguments submitted is incorrect"
            return web.json_response({"Message": message, "ExceptionMessage": str(exc)}, status=400)
        except InstanceAlreadyExistsError as exc:
            return web.json_response({"Message": str(exc)}, status=409)
        links = self._links(request, instance_id)
        body_links = {k: v for k, v in links.items() if k != "rewindPostUri"}
        headers = {"Location": links["statusQueryGetUri"], "Retry-After": "10"}
        return web.json_response(body_links, status=202, headers=headers)

    async def _status(self, request: web.Request) -> web.Response:
        try:
            result = self.driver.get_status(request.match_info["instance_id"])
        except InstanceNotFoundError:
            return web.Response(status=404)
        payload = status_payload(
            result, show_input=_flag(request, "showInput", True), show_history=_flag(request, "showHistory", False)
        )
        if result.status not in TERMINAL:
            return web.json_response(payload, status=202, headers={"Location": str(request.url), "Retry-After": "5"})
        failed_as_500 = result.status == "Failed" and _flag(request, "returnInternalServerErrorOnFailure", False)
        return web.json_response(payload, status=500 if failed_as_500 else 200)

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        statuses = {s for s in query.get("runtimeStatus", "").split(",") if s}
        created_from = h.parse_time(query["createdTimeFrom"]) if "createdTimeFrom" in query else None
        created_to = h.parse_time(query["createdTimeTo"]) if "createdTimeTo" in query else None
        prefix = query.get("instanceIdPrefix", "")
        show_input = _flag(request, "showInput", False)
        results = [
            status_payload(r, show_input=show_input)
            for r in self.driver.list_statuses()
            if (not statuses or r.status in statuses)
            and r.instance_id.startswith(prefix)
            and (created_from is None or r.created_time >= created_from)
            and (created_to is None or r.created_time <= created_to)
        ]
        return web.json_response(results)

    async def _terminate(self, request: web.Request) -> web.Response:
        try:
            self.driver.terminate(request.match_info["instance_id"], request.query.get("reason"))
        except InstanceNotFoundError:
            return web.Response(status=404)
        except InstanceNotRunningError:
            return web.Response(status=410)
        return web.Response(status=202)

    async def _raise_event(self, request: web.Request) -> web.Response:
        # HttpApiHandler.HandleRaiseEventRequestAsync asks for the status first: 404 for no instance, 410
        # once Completed/Failed/Canceled/Terminated (a Pending instance takes the event), and only then
        # looks at the content type and the JSON.
        try:
            current = self.driver.get_status(request.match_info["instance_id"])
        except InstanceNotFoundError:
            return web.Response(status=404)
        if current.status in TERMINAL:
            return web.Response(status=410)
        if request.content_type.lower() != "application/json":
            return web.json_response({"Message": "Only application/json request content is supported"}, status=400)
        try:
            data = json.loads(await request.text())
        except ValueError:
            return web.json_response({"Message": "Invalid JSON content"}, status=400)
        try:
            self.driver.raise_event(request.match_info["instance_id"], request.match_info["event_name"], data)
        except InstanceNotFoundError:
            return web.Response(status=404)
        except InstanceNotRunningError:
            return web.Response(status=410)
        return web.Response(status=202)

    async def _purge_by(self, request: web.Request) -> web.Response:
        """Purge every ended instance the filter matches (Learn, "Durable Functions HTTP API reference",
        "Purge multiple instance histories": createdTimeFrom is required; 200 with instancesDeleted, 404
        when nothing matches). Running instances never match: only terminal ones purge."""
        query = request.query
        if "createdTimeFrom" not in query:
            return web.json_response({"Message": "createdTimeFrom is required"}, status=400)
        created_from = h.parse_time(query["createdTimeFrom"])
        created_to = h.parse_time(query["createdTimeTo"]) if "createdTimeTo" in query else None
        statuses = {s for s in query.get("runtimeStatus", "").split(",") if s} or set(TERMINAL)
        matched = [
            r.instance_id
            for r in self.driver.list_statuses()
            if r.status in statuses & set(TERMINAL)
            and r.created_time >= created_from
            and (created_to is None or r.created_time <= created_to)
        ]
        for instance_id in matched:
            self.driver.purge(instance_id)
        if not matched:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": len(matched)})

    async def _purge(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["instance_id"]
        try:
            self.driver.purge(instance_id)
        except InstanceNotFoundError:
            return web.Response(status=404)
        except InstanceStillRunningError as exc:
            return web.json_response(str(exc), status=412)
        return web.json_response({"instancesDeleted": 1})
