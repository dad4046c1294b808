"""An HTTP client for the API tests: real func.HttpRequest in, every response checked against openapi.yaml."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
import pytest

from sandbox.rig import ControlPlaneRig
from tests.api.openapi_check import check_response

BASE = "http://127.0.0.1:7071"
# Route templates as function_app declares them, most specific first.
ROUTES = [
    ("POST", r"/api/cp/brainstems", "create_brainstem", {}),
    ("POST", r"/api/cp/adoptions", "start_adoption", {}),
    ("GET", r"/api/cp/adoptions/(?P<job_id>[^/]+)", "get_adoption", {}),
    ("GET", r"/api/cp/brainstems", "list_brainstems", {}),
    ("GET", r"/api/cp/brainstems/(?P<id>[^/]+)", "get_brainstem", {}),
    ("DELETE", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)", "delete_brainstem", {}),
    ("PATCH", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)", "patch_brainstem", {}),
    ("POST", r"/api/cp/rollouts", "start_rollout", {}),
    ("GET", r"/api/cp/rollouts", "list_rollouts", {}),
    ("GET", r"/api/cp/rollouts/(?P<rollout_id>[^/]+)", "get_rollout", {}),
    ("POST", r"/api/cp/rollouts/(?P<rollout_id>[^/]+)/(?P<action>[^/]+)", "control_rollout", {}),
    ("POST", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)/wake", "wake_brainstem", {}),
    ("PUT", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)/hold", "put_hold", {}),
    ("DELETE", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)/hold", "lift_hold", {}),
    ("POST", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)/restore", "restore_brainstem", {}),
    ("POST", r"/api/cp/brainstems/(?P<cloud_id>[^/]+)/repair", "repair_brainstem", {}),
    ("GET", r"/api/cp/audit", "list_audit_records", {}),
    ("GET", r"/api/cp/health", "health", {}),
    ("GET", r"/api/cp/openapi.yaml", "openapi", {}),
]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Api:
    """Calls as one caller: the rig's operator by default, or whatever ``credentials`` headers say."""

    def __init__(self, rig: ControlPlaneRig, credentials: dict[str, str] | None = None) -> None:
        self.rig = rig
        self.credentials = {"x-api-key": rig.operator_key} if credentials is None else credentials

    def as_caller(self, credentials: dict[str, str]) -> Api:
        return Api(self.rig, credentials)

    def request(
        self, method: str, path: str, *, body: bytes | None = None, json_body: Any = None,
        params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
    ) -> Answer:  # fmt: skip
        headers = {**self.credentials, **(headers or {})}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        for route_method, pattern, function_name, _ in ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                break
        else:
            raise AssertionError(f"no function serves {method} {path}")
        request = func.HttpRequest(
            method, BASE + path, headers=headers, params=params or {}, route_params=match.groupdict(), body=body or b""
        )
        response = self.rig.call(function_name, request)
        headers = {k.lower(): v for k, v in response.headers.items()}
        headers.setdefault("content-type", response.mimetype)  # the host sends the mimetype as Content-Type
        answer = Answer(response.status_code, headers, response.get_body())
        check_response(method, path, answer.status, answer.content_type, answer.body)
        if answer.status >= 400:
            assert answer.content_type == "application/problem+json", answer.body
            problem = answer.json
            assert problem["status"] == answer.status and problem["title"] and problem["detail"]
            assert "Traceback" not in problem["detail"]
        return answer

    def post(self, body: Any, **kw: Any) -> Answer:
        return self.request("POST", "/api/cp/brainstems", json_body=body, **kw)

    def get(self, identifier: str) -> Answer:
        return self.request("GET", f"/api/cp/brainstems/{identifier}")

    def delete(self, cloud_id: str) -> Answer:
        return self.request("DELETE", f"/api/cp/brainstems/{cloud_id}")

    def list(self, **params: str) -> Answer:
        return self.request("GET", "/api/cp/brainstems", params=params)

    def health(self) -> dict[str, Any]:
        answer = self.request("GET", "/api/cp/health")
        assert answer.status == 200, answer.body
        return answer.json

    def wait(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            # The status monitor's contract: 202 (with Retry-After) while the job runs, 200 once it ended.
            assert job.status == (200 if job.json["done"] else 202), job.body
            if job.status == 202:
                assert job.headers["retry-after"] and job.headers["location"].endswith(f"/api/cp/brainstems/{job_id}")
            if job.json["done"]:
                return job.json
            assert time.monotonic() < deadline, f"job {job_id} still {job.json['runtime_status']}"
            time.sleep(0.02)

    def status_uri(self, answer: Answer) -> str:
        return urlsplit(answer.headers["location"]).path


@pytest.fixture
def api(rig: ControlPlaneRig) -> Api:
    return Api(rig)
