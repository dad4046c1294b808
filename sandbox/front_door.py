"""The Functions host's HTTP front, for the sandbox: /<routePrefix>/<route> to the app's HTTP functions.

Routes come from the function metadata the worker sent (the HTTP trigger's raw binding: route
template + methods), as the host builds them, so the unmodified function_app is served at the
paths Core Tools would serve, under host.json's ``extensions.http.routePrefix``.
Durable's management URLs (/runtime/webhooks/durabletask/...) are passed to the Durable host
stand-in, as the real host serves them on the same origin.

What the host's HTTP stack (Kestrel, then the host's middleware) refuses before any function runs,
this front door refuses with the same status (docs/functions-host.md has the whole list):

- Request line over 8,192 bytes: 414; request headers over 32,768 bytes in all, or more than 100
  of them: 431 (dotnet/aspnetcore ``src/Servers/Kestrel/Core/src/KestrelServerLimits.cs`` defaults
  ``MaxRequestLineSize``, ``MaxRequestHeadersTotalSize``, ``MaxRequestHeaderCount``; the statuses
  from ``KestrelBadHttpRequestException.GetException``: RequestLineTooLong 414,
  HeadersExceedMaxTotalSize / TooManyHeaders 431).
- A header value with a NUL or other control byte, or bytes that are not ASCII or valid UTF-8: 400
  (Kestrel's ``HttpRequestHeaders`` decode values with ``GetAsciiOrUTF8StringNonNullCharacters``,
  which throws on invalid bytes -> ``MalformedRequestInvalidHeaders``, 400).
- A body over the host's limit: 413. The limit is ``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`` when it
  parses as an integer, else 104,857,600 bytes (azure-functions-host
  ``src/WebJobs.Script.WebHost/Program.cs`` sets Kestrel's ``MaxRequestBodySize`` to
  ``ScriptConstants.DefaultMaxRequestBodySize``; ``Middleware/HttpRequestBodySizeMiddleware.cs``
  applies the setting). A body under it reaches the function, whose own limit then answers.
- No key for a non-anonymous route: 401 (checked by ``invoke``, see sandbox.host_auth).

Kestrel's refusals carry an empty body; this front door sends the same status with a short
``application/problem+json`` body that repeats nothing of the request.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import azure.functions as func
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from sandbox.worker import APP_DIRECTORY
from sandbox.worker.metadata import IndexedFunction

WEBHOOKS = "/runtime/webhooks/durabletask/"
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
# Kestrel's defaults (KestrelServerLimits.cs) and the host's body limit (ScriptConstants.cs).
MAX_REQUEST_LINE_BYTES = 8 * 1024
MAX_REQUEST_HEADERS_TOTAL_BYTES = 32 * 1024
MAX_REQUEST_HEADER_COUNT = 100
DEFAULT_MAX_REQUEST_BODY_BYTES = 104_857_600
BODY_SIZE_LIMIT_SETTING = "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"
DEFAULT_ROUTE_PREFIX = "api"  # host.json reference (Learn): extensions.http.routePrefix defaults to "api"
_CONTROL_BYTES = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # HTAB is allowed in a field value (RFC 9110 §5.5)


def route_prefix_of(app_directory: Path) -> str:
    """host.json's ``extensions.http.routePrefix`` ("" serves routes at the root), default "api"."""
    host_json = app_directory / "host.json"
    if not host_json.exists():
        return DEFAULT_ROUTE_PREFIX
    http = (json.loads(host_json.read_text()).get("extensions") or {}).get("http") or {}
    prefix = http.get("routePrefix", DEFAULT_ROUTE_PREFIX)
    return str(prefix).strip("/")


def max_request_body_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The host's body limit: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT if it is an integer (long.TryParse), else 100 MB."""
    value = (os.environ if environ is None else environ).get(BODY_SIZE_LIMIT_SETTING, "")
    try:
        return int(value.strip())
    except ValueError:
        return DEFAULT_MAX_REQUEST_BODY_BYTES


def _refusal(status: int, title: str) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": "the request was refused by the host"}
    response = web.json_response(body, status=status, content_type="application/problem+json")
    response.force_close()  # Kestrel ends the connection after a bad request
    return response


def header_refusal(request: web.BaseRequest) -> web.Response | None:
    """What Kestrel says about a request's line and headers, before routing; None if it takes them."""
    line = len(request.method) + len(request.raw_path) + len(" HTTP/1.1\r\n") + 1
    if line > MAX_REQUEST_LINE_BYTES:
        return _refusal(414, "URI too long")
    raw = request.raw_headers
    if len(raw) > MAX_REQUEST_HEADER_COUNT:
        return _refusal(431, "Request header fields too large")
    if sum(len(name) + len(value) + 4 for name, value in raw) > MAX_REQUEST_HEADERS_TOTAL_BYTES:
        return _refusal(431, "Request header fields too large")
    for name, value in request.headers.items():
        try:
            name.encode("ascii")
            value.encode("utf-8")  # a value aiohttp decoded with surrogateescape is not valid UTF-8
        except UnicodeEncodeError:
            return _refusal(400, "Bad request")
        if _CONTROL_BYTES.search(value) or _CONTROL_BYTES.search(name):
            return _refusal(400, "Bad request")
    return None


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
    """aiohttp server: match a route, build a func.HttpRequest, call ``invoke(function_name, request)``.

    ``invoke`` is the host's side of an invocation (``ControlPlaneRig.call``: key check, then the
    worker). ``route_prefix`` defaults to the product's host.json's, ``max_body_bytes`` to the host's
    body limit from the environment.
    """

    def __init__(
        self,
        routes: list[HttpRoute],
        invoke: Callable[[str, func.HttpRequest], func.HttpResponse],
        durable_base_url: str,
        *,
        host: str = "127.0.0.1",
        port: int = 7071,
        route_prefix: str | None = None,
        max_body_bytes: int | None = None,
    ) -> None:
        self.routes, self.invoke, self.durable_base_url = routes, invoke, durable_base_url.rstrip("/")
        self.host, self.port = host, port
        prefix = (route_prefix_of(APP_DIRECTORY) if route_prefix is None else route_prefix).strip("/")
        self.route_prefix = f"/{prefix}/" if prefix else "/"
        self.max_body_bytes = max_request_body_bytes() if max_body_bytes is None else max_body_bytes
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # The parser's own limits sit at Kestrel's (the request target, one header field, the count);
        # header_refusal applies Kestrel's exact rules to what gets through.
        server = _QuietServer(
            self._handle, access_log=None,
            max_line_size=MAX_REQUEST_LINE_BYTES, max_field_size=MAX_REQUEST_HEADERS_TOTAL_BYTES,
            max_headers=MAX_REQUEST_HEADER_COUNT + 1,
        )  # fmt: skip
        self._runner = web.ServerRunner(server)
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

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        refused = header_refusal(request)
        if refused is not None:
            return refused
        path = request.path
        if path.startswith(WEBHOOKS):
            return await self._to_durable(request)
        if not path.startswith(self.route_prefix):
            return web.json_response({"error": "not found"}, status=404)
        tail = path[len(self.route_prefix) :]
        allowed: set[str] = set()
        for route in self.routes:
            match = route.pattern.fullmatch(tail)
            if not match:
                continue
            if request.method not in route.methods:
                allowed |= route.methods
                continue
            body = await self._read_body(request)
            if body is None:
                return _refusal(413, "Payload too large")
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

    async def _read_body(self, request: web.BaseRequest) -> bytes | None:
        """The body, or None once it is over the host's limit (Kestrel: 413 on Content-Length or on reading)."""
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            return None
        chunks, size = [], 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _to_durable(self, request: web.BaseRequest) -> web.StreamResponse:
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
    """A request the HTTP parser refuses (a NUL byte in a header, a malformed line) gets Kestrel's status.

    aiohttp's own answer quotes the offending line back, and its log prints it with a traceback:
    for an ``x-api-key`` or ``Authorization`` header that is the credential itself. A malformed
    request is the client's error (400, RFC 9110 §15.5.1); the sandbox answers it without repeating
    any of it, and logs only that it happened.
    """

    def handle_error(
        self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        self.logger.info("refused a malformed request from %s with %s", request.remote, status)
        return _refusal(*_parser_refusal(status, exc))


def _parser_refusal(status: int, exc: BaseException | None) -> tuple[int, str]:
    """Kestrel's status for what aiohttp's parser refused: a request target over the line limit is 414,
    a header field over the headers' total or too many headers 431, anything else malformed 400."""
    if isinstance(exc, LineTooLong):
        limit = str(exc.args[1]) if len(exc.args) > 1 else ""
        if limit == str(MAX_REQUEST_LINE_BYTES):
            return 414, "URI too long"
        return 431, "Request header fields too large"
    if isinstance(exc, BadHttpMessage):
        if "Too many headers" in str(exc):
            return 431, "Request header fields too large"
        return 400, "Bad request"
    return status, "Internal error" if status >= 500 else "Bad request"  # the sandbox's own fault stays visible


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
