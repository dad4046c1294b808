"""create / delete / wait: the URL alone on stdout, the poll loop's pace, and how jobs end."""

from __future__ import annotations

import json

from tests.cli.harness import TerminalStream, Twinctl, assert_error
from tests.cli.stub_api import (
    CLOUD_ID,
    JOB_ID,
    TEARDOWN_JOB_ID,
    URL,
    Answer,
    StubControlPlane,
    accepted,
    from_the_front,
    job,
    problem,
)

JOB_PATH = f"/api/cp/brainstems/{JOB_ID}"
TEARDOWN_PATH = f"/api/cp/brainstems/{TEARDOWN_JOB_ID}"
ACTIVE = {"status": "active", "cloud_id": CLOUD_ID, "url": URL}


def script_successful_provision(stub: StubControlPlane) -> None:
    stub.script("POST", "/api/cp/brainstems", accepted())
    stub.script(
        "GET",
        JOB_PATH,
        job("Pending"),
        job("Running", step="create_storage_account"),
        job("Completed", step="done", output=ACTIVE),
    )


def test_create_wait_prints_only_the_url(twinctl: Twinctl, stub: StubControlPlane) -> None:
    script_successful_provision(stub)

    result = twinctl("create", "kody", "--owner", "github:kody", "--region", "westeurope", "--wait")

    assert result.exit_code == 0
    assert result.stdout == f"{URL}\n"
    assert result.stderr == ""  # not a terminal: no progress
    [post] = stub.seen("POST", "/api/cp/brainstems")
    assert post.body == {"name": "kody", "owner": "github:kody", "region": "westeurope"}
    assert len(stub.seen("GET", JOB_PATH)) == 3


def test_create_wait_paces_polls_from_retry_after_then_backoff(twinctl: Twinctl, stub: StubControlPlane) -> None:
    script_successful_provision(stub)

    twinctl("create", "kody", "--owner", "github:kody", "--wait")

    # The 202's Retry-After: 10 is honoured but capped at 5 s; then 0.5 s growing by 1.5.
    assert twinctl.clock.sleeps == [5.0, 0.5, 0.75]


def test_create_wait_json_prints_the_final_job(twinctl: Twinctl, stub: StubControlPlane) -> None:
    script_successful_provision(stub)

    result = twinctl("create", "kody", "--owner", "github:kody", "--wait", "--json")

    assert result.exit_code == 0
    final = json.loads(result.stdout)
    assert final["runtime_status"] == "Completed"
    assert final["output"] == ACTIVE


def test_create_without_wait_prints_the_job_id(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("POST", "/api/cp/brainstems", accepted())

    plain = twinctl("create", "kody", "--owner", "github:kody", "--deploy-ref", "v1.2.3", "--runtime-target", "t1")
    as_json = twinctl("create", "kody", "--owner", "github:kody", "--json")

    assert plain.stdout == f"{JOB_ID}\n"
    assert json.loads(as_json.stdout)["links"]["job"] == JOB_PATH
    assert stub.seen("POST", "/api/cp/brainstems")[0].body == {
        "name": "kody",
        "owner": "github:kody",
        "runtime_target": "t1",
        "deploy_ref": "v1.2.3",
    }
    assert stub.seen("GET", JOB_PATH) == []


def test_progress_shows_steps_only_on_a_terminal(twinctl: Twinctl, stub: StubControlPlane) -> None:
    script_successful_provision(stub)
    terminal = TerminalStream()

    result = twinctl("create", "kody", "--owner", "github:kody", "--wait", progress=terminal)

    assert result.stdout == f"{URL}\n"
    drawn = terminal.getvalue()
    assert f"provisioning {CLOUD_ID} (job {JOB_ID})" in drawn
    assert "Running · create_storage_account" in drawn
    assert drawn.endswith("\r\x1b[K")  # the status line is wiped before the URL appears


def test_retry_after_on_polls_is_honoured_but_capped(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script(
        "GET",
        JOB_PATH,
        job("Running", headers={"Retry-After": "2"}),
        job("Running", headers={"Retry-After": "60"}),
        job("Running", headers={"Retry-After": "0.25"}),
        job("Running"),
        job("Completed", output=ACTIVE),
    )

    result = twinctl("wait", JOB_ID)

    assert result.stdout == f"{URL}\n"
    # 2 as asked, 60 capped to 5, 0.25 as asked, then our own back-off (0.5, 0.75, 1.125 were due).
    assert twinctl.clock.sleeps == [2.0, 5.0, 0.25, 1.6875]


def test_wait_on_a_failed_job_exits_5_with_its_error(twinctl: Twinctl, stub: StubControlPlane) -> None:
    error = "Activity function 'create_function_app' failed:\n  QuotaExceeded: 100 apps per plan"
    stub.script("GET", JOB_PATH, job("Running", step="create_function_app"), job("Failed", error=error))

    result = twinctl("wait", JOB_ID)

    assert_error(
        result,
        5,
        f"provisioning of {CLOUD_ID} failed: Activity function 'create_function_app' failed: "
        f"QuotaExceeded: 100 apps per plan (job_id: {JOB_ID})",
    )


def test_wait_json_on_a_failed_job_still_prints_the_job(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", JOB_PATH, job("Terminated", error="terminated by operator"))

    result = twinctl("wait", JOB_ID, "--json")

    assert result.exit_code == 5
    assert json.loads(result.stdout)["error"] == "terminated by operator"
    assert result.stderr.startswith(f"error: provisioning of {CLOUD_ID} terminated: terminated by operator")


def test_a_cancelled_provision_is_a_failure(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("POST", "/api/cp/brainstems", accepted(retry_after=None))
    cancelled = {"status": "cancelled", "cloud_id": CLOUD_ID, "reason": "deleted while provisioning"}
    stub.script("GET", JOB_PATH, job("Completed", output=cancelled))

    result = twinctl("create", "kody", "--owner", "github:kody", "--wait")

    assert_error(
        result, 5, f"provisioning of {CLOUD_ID} ended cancelled: deleted while provisioning (job_id: {JOB_ID})"
    )
    assert twinctl.clock.sleeps == []  # no Retry-After on the 202: first poll at once


def test_delete_wait_prints_the_cloud_id(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("DELETE", f"/api/cp/brainstems/{CLOUD_ID}", accepted(TEARDOWN_JOB_ID, status="deleting"))
    deleted = {"status": "deleted", "cloud_id": CLOUD_ID}
    stub.script(
        "GET",
        TEARDOWN_PATH,
        job("Running", kind="teardown", step="delete_resource_group", job_id=TEARDOWN_JOB_ID),
        job("Completed", kind="teardown", output=deleted, job_id=TEARDOWN_JOB_ID),
    )

    result = twinctl("delete", CLOUD_ID, "--wait")

    assert result.exit_code == 0
    assert result.stdout == f"{CLOUD_ID}\n"


def test_delete_without_wait_prints_the_teardown_job_id(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("DELETE", f"/api/cp/brainstems/{CLOUD_ID}", accepted(TEARDOWN_JOB_ID, status="deleting"))

    result = twinctl("delete", CLOUD_ID)

    assert result.stdout == f"{TEARDOWN_JOB_ID}\n"


def test_giving_up_says_how_to_resume(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", JOB_PATH, job("Running", step="probe_readiness"))

    result = twinctl("wait", JOB_ID, "--timeout", "3")

    assert_error(
        result,
        1,
        f"gave up waiting for job {JOB_ID} after 3s (last status: Running, step: probe_readiness); "
        f"the job goes on: resume with 'twinctl wait {JOB_ID}'",
    )
    assert sum(twinctl.clock.sleeps) == 3.0  # the last sleep is cut to the deadline, then one last look


def test_brief_outages_while_waiting_are_retried(twinctl: Twinctl, stub: StubControlPlane) -> None:
    # The Functions host answers 429 itself when its HTTP concurrency throttle trips (not the API's own answer).
    throttled = from_the_front(problem(429, "Too many requests", "slow down"))
    unavailable = problem(503, "Dependency unavailable", "Table Storage does not answer")
    stub.script("GET", JOB_PATH, throttled, unavailable, job("Completed", output=ACTIVE))

    result = twinctl("wait", JOB_ID)

    assert result.stdout == f"{URL}\n"
    assert twinctl.clock.sleeps == [5.0, 0.5]  # the 429's Retry-After: 7 capped, then back-off


def test_a_lasting_outage_while_waiting_ends_with_its_own_code(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", JOB_PATH, from_the_front(problem(429, "Too many requests", "slow down")))

    result = twinctl("wait", JOB_ID)

    assert_error(result, 8, "Too many requests: slow down")
    assert len(stub.seen("GET", JOB_PATH)) == 6  # first try + 5 retries


def test_wait_refuses_an_id_that_is_not_a_job_id(twinctl: Twinctl, stub: StubControlPlane) -> None:
    result = twinctl("wait", CLOUD_ID)

    assert_error(result, 2, f"'{CLOUD_ID}' is not a job_id (32 lowercase hex characters)")
    assert stub.requests == []


def test_timeout_without_wait_is_a_usage_error(twinctl: Twinctl, stub: StubControlPlane) -> None:
    result = twinctl("create", "kody", "--owner", "github:kody", "--timeout", "5")

    assert result.exit_code == 2
    assert "--timeout only applies together with --wait" in result.stderr
    assert stub.requests == []


def test_a_non_json_success_is_reported_not_crashed_on(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script(
        "POST", "/api/cp/brainstems", from_the_front(Answer(202, "<html>welcome</html>", content_type="text/html"))
    )

    result = twinctl("create", "kody", "--owner", "github:kody")

    assert result.exit_code == 1
    assert "without a JSON object (Content-Type: text/html)" in result.stderr


def test_ctrl_c_while_waiting_says_how_to_resume(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", JOB_PATH, job("Running"))

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    twinctl.clock.sleep = interrupted  # type: ignore[method-assign]
    result = twinctl("wait", JOB_ID)

    assert_error(result, 130, f"stopped waiting; job {JOB_ID} goes on: resume with 'twinctl wait {JOB_ID}'")
