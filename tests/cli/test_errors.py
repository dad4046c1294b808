"""Every kind of failure ends as one ``error:`` line on stderr and its own exit code."""

from __future__ import annotations

import pytest

from tests.cli.harness import Twinctl, assert_error
from tests.cli.stub_api import CLOUD_ID, JOB_ID, Answer, StubControlPlane, from_the_front, problem

CASES = [
    pytest.param(
        problem(400, "Invalid input", "twin name is 13 characters; the maximum is 12", field="name"),
        2,
        "Invalid input: twin name is 13 characters; the maximum is 12 (field: name)",
        id="400-invalid-input-names-the-field",
    ),
    pytest.param(
        problem(413, "Payload too large", "the body is 20000 bytes; the limit is 16384", limit=16384),
        2,
        "Payload too large: the body is 20000 bytes; the limit is 16384",
        id="413-too-large",
    ),
    pytest.param(
        problem(415, "Unsupported media type", "send JSON", field="content-type"),
        2,
        "Unsupported media type: send JSON (field: content-type)",
        id="415-media-type",
    ),
    pytest.param(
        # No route lists 422 today; the CLI still maps any problem 4xx to exit 2 should one appear.
        from_the_front(problem(422, "Unprocessable", "region is not allowed", field="region")),
        2,
        "Unprocessable: region is not allowed (field: region)",
        id="422-unprocessable",
    ),
    pytest.param(
        problem(404, "Not found", "no brainstem twin-kody-e89834"),
        3,
        "Not found: no brainstem twin-kody-e89834",
        id="404",
    ),
    pytest.param(
        problem(410, "Gone", "twin-kody-e89834 was deleted"), 3, "Gone: twin-kody-e89834 was deleted", id="410"
    ),
    pytest.param(
        problem(409, "Brainstem already exists", "twin kody exists", cloud_id=CLOUD_ID, job_id=JOB_ID),
        4,
        f"Brainstem already exists: twin kody exists (cloud_id: {CLOUD_ID}, job_id: {JOB_ID})",
        id="409-names-the-existing-twin-and-job",
    ),
    pytest.param(problem(401, "Unauthorized", "missing key"), 7, "Unauthorized: missing key", id="401"),
    pytest.param(problem(403, "Forbidden", "owner mismatch"), 7, "Forbidden: owner mismatch", id="403"),
    pytest.param(
        problem(429, "Quota exceeded", "250 storage accounts in eastus2"),
        8,
        "Quota exceeded: 250 storage accounts in eastus2",
        id="429",
    ),
    pytest.param(problem(500, "Internal error", "see the logs"), 1, "Internal error: see the logs", id="500"),
    pytest.param(
        problem(503, "Control plane misconfigured", "CP_SUBSCRIPTION_ID is not set"),
        1,
        "Control plane misconfigured: CP_SUBSCRIPTION_ID is not set",
        id="503",
    ),
    pytest.param(
        from_the_front(Answer(502, "<html>Bad Gateway</html>", content_type="text/html")),
        1,
        "HTTP 502 Bad Gateway",
        id="502-from-a-proxy-without-problem-json",
    ),
    pytest.param(
        from_the_front(Answer(401, "")),
        7,
        "HTTP 401 Unauthorized: check --key / TWINCTL_KEY or --token / TWINCTL_TOKEN",
        id="401-bare-from-the-functions-host",
    ),
]


COMMAND_FOR_STATUS = {
    404: ("GET", f"/api/cp/brainstems/{CLOUD_ID}", ["get", CLOUD_ID]),
    410: ("DELETE", f"/api/cp/brainstems/{CLOUD_ID}", ["delete", CLOUD_ID]),
}


@pytest.mark.parametrize(("answer", "exit_code", "message"), CASES)
def test_api_errors_map_to_exit_codes(
    twinctl: Twinctl, stub: StubControlPlane, answer: Answer, exit_code: int, message: str
) -> None:
    # Each status is sent by a route whose contract lists it (the stub checks): create by default.
    method, path, args = COMMAND_FOR_STATUS.get(
        answer.status, ("POST", "/api/cp/brainstems", ["create", "kody", "--owner", "github:kody", "--wait"])
    )
    stub.script(method, path, answer)

    result = twinctl(*args)

    assert_error(result, exit_code, message)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["health"], id="health"),
        pytest.param(["create", "kody", "--owner", "x", "--wait"], id="create"),
        pytest.param(["list"], id="list"),
        pytest.param(["wait", JOB_ID], id="wait"),
    ],
)
def test_unreachable_control_plane_exits_6(twinctl: Twinctl, closed_port_url: str, args: list[str]) -> None:
    result = twinctl(*args, url=closed_port_url)

    assert result.exit_code == 6
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach the control plane at {closed_port_url}: ")
    assert "Connection refused" in line
    assert result.stdout == ""


def test_a_multiline_detail_stays_on_one_line(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script(
        "GET", f"/api/cp/brainstems/{CLOUD_ID}", problem(500, "Internal error", "line one\nline two\n" + "x" * 900)
    )

    result = twinctl("get", CLOUD_ID)

    [line] = result.stderr.splitlines()
    assert line.startswith("error: Internal error: line one line two xxx")
    assert line.endswith("…")
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["create", "kody"], id="create-without-owner"),
        pytest.param(["list", "--limit", "0"], id="limit-below-one"),
        pytest.param(["list", "--status", "happy"], id="unknown-status"),
        pytest.param(["list", "--json", "--jsonl"], id="two-output-formats"),
        pytest.param(["frobnicate"], id="unknown-command"),
        pytest.param(["get", "kody"], id="id-neither-cloud-id-nor-job-id"),
        pytest.param(["delete", JOB_ID], id="delete-takes-a-cloud-id"),
    ],
)
def test_bad_usage_exits_2_without_calling_the_api(twinctl: Twinctl, stub: StubControlPlane, args: list[str]) -> None:
    result = twinctl(*args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert stub.requests == []


def test_a_url_that_is_not_http_is_a_usage_error(twinctl: Twinctl) -> None:
    result = twinctl("health", url="127.0.0.1:7071")

    assert result.exit_code == 2
    assert "--url must start with http:// or https://" in result.stderr
