"""``python -m twinctl`` as a script runs it: real process, real clock, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cli.stub_api import CLOUD_ID, JOB_ID, URL, StubControlPlane, accepted, job


def run_module(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWINCTL_")}
    env["TWINCTL_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "twinctl", *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_module_create_wait_captures_the_url(stub: StubControlPlane) -> None:
    # Retry-After: 0 everywhere keeps the real clock from sleeping.
    stub.script("POST", "/api/cp/brainstems", accepted(retry_after="0"))
    done = {"status": "active", "cloud_id": CLOUD_ID, "url": URL}
    stub.script(
        "GET",
        f"/api/cp/brainstems/{JOB_ID}",
        job("Running", headers={"Retry-After": "0"}),
        job("Completed", output=done),
    )

    process = run_module("create", "kody", "--owner", "github:kody", "--wait", url=stub.url)

    assert (process.returncode, process.stdout, process.stderr) == (0, f"{URL}\n", "")


def test_module_unreachable_exits_6(closed_port_url: str) -> None:
    process = run_module("health", url=closed_port_url)

    assert process.returncode == 6
    assert process.stdout == ""
    assert len(process.stderr.splitlines()) == 1


def test_module_help_documents_the_exit_codes() -> None:
    process = run_module("--help", url="http://127.0.0.1:7071")

    assert process.returncode == 0
    assert "Exit codes:" in process.stdout
    for line in ("6  control plane unreachable", "7  unauthorized or forbidden", "8  quota or throttled"):
        assert line in process.stdout
