"""The sandbox's Functions host front door refuses what the host refuses (sandbox.host_auth, sandbox.front_door).

A toy app (its own ``function_app.py`` and ``host.json``), indexed by Microsoft's worker in a process
of its own (one app per worker process), proves the key rules on routes of every level; the
product's front door proves Kestrel's limits and that every product route opens with only the
caller's own credential.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox.host_auth import ADMIN, ANONYMOUS, FUNCTION, SYSTEM, HostKeys, opens, presented_key
from sandbox.worker import APP_DIRECTORY

TOY_APP = """
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)


@app.route(route="keyed", methods=["GET"])
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("keyed ran")


@app.route(route="open", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def open_route(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("open ran")


@app.route(route="admin", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def admin_route(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin ran")


@app.route(route="echo", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(str(len(req.get_body())))
"""

# Runs in its own process: the worker indexes the toy app, the sandbox front door serves it.
DRIVER = """
import asyncio, json, sys, urllib.request, urllib.error
from pathlib import Path
from sandbox.front_door import FrontDoor, http_routes, route_prefix_of
from sandbox.host_auth import DURABLE_SYSTEM_KEY_NAME, HostKeys, refusal
from sandbox.worker.http import invoke_http
from sandbox.worker.library import worker_for

app_dir = Path(sys.argv[1])
worker = worker_for(app_dir)
keys = HostKeys(system_keys={DURABLE_SYSTEM_KEY_NAME: "system-key-value"})
other_function_key = keys.key_of("open_route")

def invoke(name, request):
    refused = refusal(keys, worker.function(name), request)
    return refused if refused is not None else invoke_http(worker, name, request, client_json=None)

async def main():
    door = FrontDoor(http_routes(worker.functions.values()), invoke, "http://127.0.0.1:9", port=0,
                     route_prefix=route_prefix_of(app_dir))
    await door.start()
    def call(path, headers=None, body=None):
        request = urllib.request.Request(door.base_url + path, headers=headers or {}, data=body,
                                         method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(request) as answer:
                return [answer.status, answer.read().decode()]
        except urllib.error.HTTPError as error:
            return [error.code, error.read().decode()]
    loop = asyncio.get_running_loop()
    cases = {
        "levels": {name: f.trigger.get("authLevel") for name, f in worker.functions.items()},
        "keyed, no key": ("/toy/keyed", None),
        "keyed, wrong key": ("/toy/keyed?code=nope", None),
        "keyed, its function key in code": ("/toy/keyed?code=" + keys.key_of("keyed"), None),
        "keyed, its function key in the header": ("/toy/keyed", {"x-functions-key": keys.key_of("keyed")}),
        "keyed, header wins over code": ("/toy/keyed?code=" + keys.key_of("keyed"), {"x-functions-key": "nope"}),
        "keyed, empty header, key in code": ("/toy/keyed?code=" + keys.key_of("keyed"), {"x-functions-key": ""}),
        "keyed, another function's key": ("/toy/keyed?code=" + other_function_key, None),
        "keyed, host key": ("/toy/keyed?code=" + keys.host_function_keys["default"], None),
        "keyed, master key": ("/toy/keyed?code=" + keys.master, None),
        "keyed, system key": ("/toy/keyed?code=system-key-value", None),
        "keyed, a bearer token": ("/toy/keyed", {"Authorization": "Bearer a.b.c"}),
        "admin, host key": ("/toy/admin?code=" + keys.host_function_keys["default"], None),
        "admin, master key": ("/toy/admin", {"x-functions-key": keys.master}),
        "open, no key": ("/toy/open", None),
        "without the route prefix": ("/api/open", None),
    }
    results = {"levels": cases.pop("levels")}
    for label, (path, headers) in cases.items():
        results[label] = await loop.run_in_executor(None, call, path, headers)
    limit = int(__import__("os").environ["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"])
    for label, size in (("body at the limit", limit), ("body over the limit", limit + 1)):
        results[label] = await loop.run_in_executor(None, call, "/toy/echo", {"Content-Type": "text/plain"}, b"x" * size)
    await door.close()
    print(json.dumps(results))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def toy_answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app_dir = tmp_path_factory.mktemp("toy-app")
    (app_dir / "function_app.py").write_text(textwrap.dedent(TOY_APP))
    (app_dir / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": "toy"}}}))
    environ = {**os.environ, "PYTHONPATH": str(APP_DIRECTORY), "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "4096"}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(app_dir)], capture_output=True, text=True, timeout=120, env=environ
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_toy_apps_levels_are_read_from_the_workers_indexing(toy_answers: dict[str, Any]) -> None:
    assert toy_answers["levels"] == {"keyed": "FUNCTION", "open_route": "ANONYMOUS", "admin_route": "ADMIN",
                                     "echo": "ANONYMOUS"}  # fmt: skip


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("keyed, no key", 401),
        ("keyed, wrong key", 401),
        ("keyed, its function key in code", 200),
        ("keyed, its function key in the header", 200),
        ("keyed, header wins over code", 401),
        ("keyed, empty header, key in code", 401),  # the header is present: it is the key, and it is empty
        ("keyed, another function's key", 401),
        ("keyed, host key", 200),
        ("keyed, master key", 200),
        ("keyed, system key", 401),  # System is not Function (AuthUtility: the levels must be equal)
        ("keyed, a bearer token", 401),  # the host knows nothing of the app's callers
        ("admin, host key", 401),
        ("admin, master key", 200),
        ("open, no key", 200),
        ("without the route prefix", 404),  # host.json's routePrefix is "toy"
        ("body at the limit", 200),
        ("body over the limit", 413),  # FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=4096
    ],
)
def test_the_host_refuses_as_azure_does(toy_answers: dict[str, Any], case: str, status: int) -> None:
    answered, body = toy_answers[case]
    assert answered == status, (case, body)
    if status == 401:
        assert body == ""  # UnauthorizedResult: the function never ran, nothing is said
    if status == 200 and case.startswith("keyed"):
        assert body == "keyed ran"
    if case == "body at the limit":
        assert body == "4096"  # the whole body reached the function


def test_key_levels_and_sources() -> None:
    keys = HostKeys(system_keys={"durabletask_extension": "s"})
    assert keys.level_of(keys.master, "f") == ADMIN
    assert keys.level_of("s", "f") == SYSTEM
    assert keys.level_of(keys.key_of("f"), "F") == FUNCTION  # function names are case-insensitive
    assert keys.level_of(keys.key_of("f"), "g") == ANONYMOUS
    assert keys.level_of("", "f") == ANONYMOUS
    assert [opens(level, FUNCTION) for level in (ANONYMOUS, FUNCTION, SYSTEM, ADMIN)] == [False, True, False, True]
    assert presented_key({"X-Functions-Key": "h"}, {"code": "q"}) == "h"
    assert presented_key({}, {"code": "q"}) == "q"


# ---- the product's front door: every route opens with the caller's credential alone ----------------


def test_every_product_route_opens_without_a_function_key(served: tuple[Any, str], http_call: Any) -> None:
    rig, base = served
    from sandbox.worker import app_worker

    paths = {
        "create_brainstem": ("POST", "/api/cp/brainstems"), "list_brainstems": ("GET", "/api/cp/brainstems"),
        "get_brainstem": ("GET", "/api/cp/brainstems/twin-none-000000"),
        "delete_brainstem": ("DELETE", "/api/cp/brainstems/twin-none-000000"),
        "patch_brainstem": ("PATCH", "/api/cp/brainstems/twin-none-000000"),
        "wake_brainstem": ("POST", "/api/cp/brainstems/twin-none-000000/wake"),
        "put_hold": ("PUT", "/api/cp/brainstems/twin-none-000000/hold"),
        "lift_hold": ("DELETE", "/api/cp/brainstems/twin-none-000000/hold"),
        "restore_brainstem": ("POST", "/api/cp/brainstems/twin-none-000000/restore"),
        "repair_brainstem": ("POST", "/api/cp/brainstems/twin-none-000000/repair"),
        "list_audit_records": ("GET", "/api/cp/audit"),
        "health": ("GET", "/api/cp/health"), "openapi": ("GET", "/api/cp/openapi.yaml"),
        "start_rollout": ("POST", "/api/cp/rollouts"), "list_rollouts": ("GET", "/api/cp/rollouts"),
        "get_rollout": ("GET", "/api/cp/rollouts/ro-none"), "control_rollout": ("POST", "/api/cp/rollouts/ro-none/pause"),
        "start_adoption": ("POST", "/api/cp/adoptions"), "get_adoption": ("GET", "/api/cp/adoptions/job-none"),
    }  # fmt: skip
    http_functions = {n for n, f in app_worker().functions.items() if f.trigger_type == "httpTrigger"}
    assert set(paths) == http_functions
    for name, (method, path) in paths.items():
        status, _, body = http_call(
            base, method, path, {"x-api-key": rig.operator_key, "Content-Type": "application/json"}, b"{}"
        )
        # Our own code answered: a success or our problem document, never the host's bare 401.
        assert status != 401, (name, body)
        assert status < 500, (name, body)


# ---- Kestrel's limits, on the product's front door --------------------------------------------------


def raw_request(base: str, data: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client library would send most of these) and read the status line."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest


def head(path: str, headers: list[bytes]) -> bytes:
    return b"\r\n".join([b"GET " + path.encode() + b" HTTP/1.1", b"Host: x", *headers, b"Connection: close", b"", b""])


@pytest.mark.parametrize(
    ("label", "request_bytes", "status"),
    [
        ("request line at 8 KiB", head("/api/cp/health?p=" + "a" * (8192 - 200), []), 200),
        ("request line over 8 KiB", head("/api/cp/health?p=" + "a" * 8192, []), 414),
        ("request target far over 8 KiB", head("/api/cp/health?p=" + "a" * 20000, []), 414),
        ("headers under 32 KiB", head("/api/cp/health", [b"X-A: " + b"a" * 8000] * 3), 200),
        ("headers over 32 KiB", head("/api/cp/health", [b"X-A: " + b"a" * 8000] * 5), 431),
        ("one header over 32 KiB", head("/api/cp/health", [b"X-A: " + b"a" * 40000]), 431),
        ("100 headers", head("/api/cp/health", [b"X-%d: 1" % i for i in range(97)]), 200),
        ("101 headers", head("/api/cp/health", [b"X-%d: 1" % i for i in range(98)]), 431),
        ("UTF-8 in a header value", head("/api/cp/health", ["X-Name: café".encode()]), 200),
        ("Latin-1 byte in a header value", head("/api/cp/health", [b"X-Name: caf\xe9"]), 400),
        ("invalid UTF-8 in the key header", head("/api/cp/health", [b"x-api-key: \xff\xfe"]), 400),
        ("NUL in a header value", head("/api/cp/health", [b"X-Name: a\x00b"]), 400),
        ("control byte in a header value", head("/api/cp/health", [b"X-Name: a\x01b"]), 400),
        ("DEL in a header value", head("/api/cp/health", [b"X-Name: a\x7fb"]), 400),
        ("non-ASCII header name", head("/api/cp/health", ["X-Nämé: 1".encode()]), 400),
    ],
)
def test_kestrels_limits(served: tuple[Any, str], label: str, request_bytes: bytes, status: int) -> None:
    rig, base = served
    keyed = request_bytes.replace(b"Host: x", b"Host: x\r\nx-api-key: " + rig.operator_key.encode(), 1)
    if label == "invalid UTF-8 in the key header":
        keyed = request_bytes
    answered, rest = raw_request(base, keyed)
    assert answered == status, (label, rest[:300])
    if status >= 400:
        assert b"application/problem+json" in rest.split(b"\r\n\r\n")[0]
        assert rig.operator_key.encode() not in rest and b"\xff" not in rest and b"aaaa" not in rest


@pytest.mark.parametrize("size", [16 * 1024 + 1, 2 * 1024 * 1024])
def test_a_large_body_under_the_hosts_limit_reaches_our_413(served: tuple[Any, str], http_call: Any, size: int) -> None:
    """Over our 16 KiB cap but under the host's 100 MB: our problem document, not the stand-in's text/plain."""
    rig, base = served
    headers = {"x-api-key": rig.operator_key, "Content-Type": "application/json"}
    status, content_type, body = http_call(
        base, "POST", "/api/cp/brainstems", headers, b"[" + b"0," * (size // 2) + b"0]"
    )
    assert (status, content_type) == (413, "application/problem+json"), body[:300]
    assert json.loads(body)["status"] == 413


def test_a_body_over_the_hosts_limit_is_the_hosts_413(served: tuple[Any, str], http_call: Any) -> None:
    rig, base = served
    head_only = (
        b"POST /api/cp/brainstems HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"x-api-key: " + rig.operator_key.encode() + b"\r\nContent-Length: 104857601\r\nConnection: close\r\n\r\n"
    )
    answered, _ = raw_request(base, head_only)  # refused on Content-Length alone, before any body is sent
    assert answered == 413


@pytest.fixture
def http_call() -> Any:
    import urllib.error
    import urllib.request

    def call(base: str, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, str, bytes]:
        request = urllib.request.Request(base + path, data=body if method in {"POST", "PATCH"} else None,
                                         headers=headers, method=method)  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, answer.headers.get_content_type(), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_content_type(), error.read()

    return call


def test_route_prefix_is_read_from_host_json(tmp_path: Path) -> None:
    from sandbox.front_door import route_prefix_of

    assert route_prefix_of(APP_DIRECTORY) == "api"
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}))
    assert route_prefix_of(tmp_path) == ""
    assert route_prefix_of(tmp_path / "nowhere") == "api"
