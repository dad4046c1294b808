"""The Functions host's HTTP front, for the sandbox: /api/<route> to the app's HTTP functions.

Routes come from the function metadata the worker sent (the HTTP trigger's raw binding: route
template + methods), as the host builds them, so the unmodified function_app is served at the
paths Core Tools would serve.
Durable's management URLs (/runtime/webhooks/durabletask/...) are passed to the Durable host
stand-in, as the real host serves them on the same origin.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiohttp
import azure.functions as func
from aiohttp import web

from sandbox.worker.metadata import IndexedFunction

ROUTE_PREFIX = "/api/"
WEBHOOKS = "/runtime/webhooks/durabletask/"
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class HttpRoute:
    function_name: str
    methods: frozenset[str]
    pattern: re.Pattern[str]
    specificity: tuple[int, int]


def http_routes(functions: Iterable[IndexedFunction]) -> list[HttpRoute]:
    """The app's HTTP routes, literal segments before parameters (the host's precedence)."""
    routes = []
    for function in functions:
        trigger = function.trigger
        if trigger.get("type") != "httpTrigger":
            continue
        template = trigger.get("route") or function.name
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        methods = frozenset(str(m).upper() for m in (trigger.get("methods") or ["GET", "POST"]))
        literal = sum(1 for part in template.split("/") if not part.startswith("{"))
        routes.append(HttpRoute(function.name, methods, re.compile(regex), (-literal, -len(template))))
    return sorted(routes, key=lambda r: r.specificity)


class FrontDoor:
    """aiohttp server: match a route, build a func.HttpRequest, call ``invoke(function_name, request)``."""

    def __init__(
        self,
        routes: list[HttpRoute],
        invoke: Callable[[str, func.HttpRequest], func.HttpResponse],
        durable_base_url: str,
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
    ) -> None:
        self.routes, self.invoke, self.durable_base_url = routes, invoke, durable_base_url.rstrip("/")
        self.host, self.port = host, port
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._runner = web.ServerRunner(_QuietServer(self._handle, access_log=None))
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith(WEBHOOKS):
            return await self._to_durable(request)
        if not path.startswith(ROUTE_PREFIX):
            return web.json_response({"error": "not found"}, status=404)
        tail = path[len(ROUTE_PREFIX) :]
        allowed: set[str] = set()
        for route in self.routes:
            match = route.pattern.fullmatch(tail)
            if not match:
                continue
            if request.method not in route.methods:
                allowed |= route.methods
                continue
            body = await request.read()
            http_request = func.HttpRequest(
                request.method, str(request.url), headers=dict(request.headers), params=dict(request.query),
                route_params=match.groupdict(), body=body,
            )  # fmt: skip
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(None, self.invoke, route.function_name, http_request)
            return _to_aiohttp(response)
        if allowed:
            return web.Response(status=405, headers={"Allow": ", ".join(sorted(allowed))})
        return web.Response(status=404)

    async def _to_durable(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        url = self.durable_base_url + request.rel_url.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with self._session.request(request.method, url, headers=headers, data=await request.read()) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS}
            if "Location" in out:
                out["Location"] = out["Location"].replace(self.durable_base_url, self.base_url)
            return web.Response(
                status=upstream.status,
                body=body.replace(self.durable_base_url.encode(), self.base_url.encode()),
                headers=out,
            )


class _QuietRequestHandler(web.RequestHandler):
    """A request the HTTP parser refuses (a NUL byte in a header, a malformed line) gets a fixed 400.

    aiohttp's own answer quotes the offending line back, and its log prints it with a traceback:
    for an ``x-api-key`` or ``Authorization`` header that is the credential itself. A malformed
    request is the client's error (400, RFC 9110 §15.5.1); the sandbox answers it without repeating
    any of it, and logs only that it happened.
    """

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        self.logger.info("refused a malformed request from %s with %s", request.remote, status)
        body = {"type": "about:blank", "title": "Bad request", "status": status, "detail": "the request is malformed"}
        response = web.json_response(body, status=status, content_type="application/problem+json")
        response.force_close()
        return response


class _QuietServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return _QuietRequestHandler(self, loop=self._loop, **self._kwargs)


def _to_aiohttp(response: func.HttpResponse) -> web.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_HEADERS}
    if "content-type" not in {k.lower() for k in headers} and response.mimetype:
        headers["Content-Type"] = response.mimetype + (
            f"; charset={response.charset}" if response.charset and response.mimetype.startswith("text") else ""
        )
    return web.Response(status=response.status_code, body=response.get_body(), headers=headers)
