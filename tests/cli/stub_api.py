"""A scripted stand-in for the control plane's HTTP API (the real server is tested elsewhere).

It is a real HTTP server on 127.0.0.1, so the CLI's real ``requests`` transport, headers,
problem+json parsing and keep-alive are exercised; each route answers from a script the test
writes. Every scripted answer is checked against openapi.yaml when it is scripted (the same check the
API tests run on the real app's responses), so the CLI is tested against the contract and this stub
cannot drift from it. Only an answer marked ``off_contract`` (what a proxy or gateway in front of the
API might send, e.g. an HTML 502) skips the check.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.api.openapi_check import check_response

JOB_ID = "0123456789abcdef0123456789abcdef"
TEARDOWN_JOB_ID = "fedcba9876543210fedcba9876543210"
CLOUD_ID = "twin-kody-e89834"
URL = f"https://{CLOUD_ID}.azurewebsites.net"


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP answer: a dict body is sent as JSON, a str as text."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    off_contract: bool = False

    def payload(self) -> bytes:
        return json.dumps(self.body).encode() if isinstance(self.body, dict | list) else (self.body or "").encode()


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def problem(status: int, title: str, detail: str, **extensions: Any) -> Answer:
    body: dict[str, Any] = {"type": f"https://twinstack.dev/problems/{title.lower().replace(' ', '-')}", "title": title}
    body.update({"status": status, "detail": detail, **extensions})
    headers = {"Retry-After": "7"} if status == 429 else {}
    return Answer(status, body, headers, content_type="application/problem+json")


def job(
    runtime_status: str,
    *,
    step: str | None = None,
    kind: str = "provision",
    output: dict[str, Any] | None = None,
    error: str | None = None,
    job_id: str = JOB_ID,
    headers: dict[str, str] | None = None,
) -> Answer:
    body = {
        "job_id": job_id,
        "kind": kind,
        "cloud_id": CLOUD_ID,
        "owner": "github:kody",
        "runtime_status": runtime_status,
        "step": step,
        "custom_status": {"step": step} if step else None,
        "created_at": "2026-11-23T09:00:00Z",
        "last_updated_at": "2026-11-23T09:01:00Z",
        "output": output,
        "error": error,
        "done": runtime_status in ("Completed", "Failed", "Terminated"),
    }
    # The status monitor: 202 while the job runs, 200 once it has ended.
    return Answer(200 if body["done"] else 202, body, headers or {})


def accepted(job_id: str = JOB_ID, status: str = "provisioning", retry_after: str | None = "10") -> Answer:
    body: dict[str, Any] = {
        "job_id": job_id,
        "cloud_id": CLOUD_ID,
        "status": status,
        "links": {"job": f"/api/cp/brainstems/{job_id}", "brainstem": f"/api/cp/brainstems/{CLOUD_ID}"},
    }
    headers = {"Location": f"http://127.0.0.1/api/cp/brainstems/{job_id}"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Answer(202, body, headers)


def row(cloud_id: str = CLOUD_ID, **overrides: Any) -> dict[str, Any]:
    return {
        "cloud_id": cloud_id,
        "name": cloud_id.split("-")[1],
        "owner": "github:kody",
        "region": "eastus2",
        "runtime_target": "azure-consumption-py311",
        "deploy_ref": "main",
        "status": "active",
        "job_id": JOB_ID,
        "created_at": "2026-11-23T09:00:00Z",
        "last_seen": "2026-11-23T09:05:00Z",
        "url": f"https://{cloud_id}.azurewebsites.net",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "callback_url": None,
        "previous_deploy_ref": None,
        "target_deploy_ref": None,
        "app_settings": None,
        "target_app_settings": None,
        "error": None,
        **overrides,
    }


def health_counts(**overrides: Any) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "total": 0, "provisioning": 0, "active": 0, "updating": 0, "errored": 0, "deleting": 0, "deleted": 0,
        "missing": 0,
    }  # fmt: skip
    return {**counts, "by_runtime_target": {}, "by_deploy_ref": {}, "registry": "ok", **overrides}


def from_the_front(answer: Answer) -> Answer:
    """An answer the Functions host or a proxy in front of the API sends, not the API: off the contract."""
    return Answer(answer.status, answer.body, answer.headers, answer.content_type, off_contract=True)


class StubControlPlane:
    """Answers (method, path) from a queue of scripted answers; the last one repeats. Records every request."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, method: str, path: str, *answers: Answer) -> None:
        for answer in answers:
            if not answer.off_contract:
                check_response(method, path, answer.status, answer.content_type, answer.payload())
        self._routes[(method, path)] = list(answers)

    def seen(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def answer(self, request: Seen) -> Answer:
        with self._lock:
            self.requests.append(request)
            queue = self._routes.get((request.method, request.path))
            if not queue:
                return problem(404, "No scripted answer", f"{request.method} {request.path}")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(stub: StubControlPlane) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the Functions host
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            seen = Seen(self.command, parts.path, query, dict(self.headers), json.loads(raw) if raw else None)
            answer = stub.answer(seen)
            payload = answer.payload()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
            pass

    return Handler
