"""The offline sandbox as a user runs it, driven only through the CLI and raw HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.sandbox_process import RunningSandbox, running_sandbox

ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc), including ones that started their own session."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as running:
        yield running


def twinctl(base: str, key: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINCTL_")} | {
        "TWINCTL_URL": base,
        "TWINCTL_KEY": key,
    }
    return subprocess.run(
        [sys.executable, "-m", "twinctl", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_sandbox_end_to_end_through_the_cli(sandbox: RunningSandbox) -> None:
    process, base, key = sandbox.process, sandbox.base_url, sandbox.operator_key
    auth = {"x-api-key": key}
    assert requests.get(f"{base}/api/cp/health", timeout=5).status_code == 401  # no key, no entry

    with ThreadPoolExecutor(2) as pool:
        kody, molly = pool.map(
            lambda name: twinctl(base, key, "create", name, "--owner", f"github:{name}", "--wait"), ["kody", "molly"]
        )
    for result, cloud_id in ((kody, "twin-kody-e89834"), (molly, "twin-molly-4181ee")):
        assert result.returncode == 0, result.stderr
        url = result.stdout.strip()
        assert "\n" not in url and url.endswith(f"/{cloud_id}/")
        # No landing page at the root (AzureWebJobsDisableHomepage); the readiness route names the code.
        assert requests.get(url, timeout=5).status_code == 404
        assert requests.get(url + "api/health", timeout=5).json() == {"status": "ok", "deploy_ref": "main"}

    listed = twinctl(base, key, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["cloud_id"] for row in json.loads(listed.stdout)] == ["twin-kody-e89834", "twin-molly-4181ee"]
    health = requests.get(f"{base}/api/cp/health", headers=auth, timeout=5).json()
    assert (health["total"], health["active"]) == (2, 2)

    again = twinctl(base, key, "create", "kody", "--owner", "github:kody")
    assert again.returncode == 4 and again.stderr.startswith("error:")

    deleted = twinctl(base, key, "delete", "twin-kody-e89834", "--wait")
    assert deleted.returncode == 0 and deleted.stdout.strip() == "twin-kody-e89834", deleted.stderr
    health = requests.get(f"{base}/api/cp/health", headers=auth, timeout=5).json()
    assert (health["total"], health["active"], health["deleted"]) == (2, 1, 1)

    # The Location a caller gets back is our own status monitor, absolute from configuration, and
    # answers only to a credential.
    created = requests.post(
        f"{base}/api/cp/brainstems", json={"name": "ada", "owner": "github:ada"}, headers=auth, timeout=10
    )
    assert created.status_code == 202
    assert created.headers["Location"] == f"{base}/api/cp/brainstems/{created.json()['job_id']}"
    assert requests.get(created.headers["Location"], timeout=10).status_code == 401
    status = requests.get(created.headers["Location"], headers=auth, timeout=10)
    assert status.status_code in (200, 202) and status.json()["job_id"] == created.json()["job_id"]
    assert twinctl(base, key, "wait", created.json()["job_id"]).returncode == 0

    assert twinctl(base, key, "get", "twin-nobody-000000").returncode in (2, 3)

    children = descendants(process.pid)
    assert children, "the sandbox should have started Azurite"
    process.send_signal(signal.SIGTERM)
    output = sandbox.output_after_exit()
    assert process.returncode == 0, output
    assert "stopped" in output
    time.sleep(0.2)
    assert not [pid for pid in children if alive(pid)], "a child process outlived the sandbox"


def test_a_callback_hears_its_twin_go_live_and_twinctl_events_shows_it(
    sandbox: RunningSandbox,
) -> None:
    base, key, banner = sandbox.base_url, sandbox.operator_key, sandbox.banner
    hook = re.search(r'"callback_url": "(https://127\.0\.0\.1:\d+/hooks/)you"', banner)
    feed = re.search(r"twinctl events --follow --feed (\S+)", banner)
    assert hook and feed, banner
    created = twinctl(
        base, key, "create", "kody", "--owner", "github:kody", "--callback-url", hook[1] + "kody", "--wait"
    )
    assert created.returncode == 0, created.stderr
    url = created.stdout.strip()

    shown = twinctl(base, key, "events", "--feed", feed[1], "--json")
    assert shown.returncode == 0, shown.stderr
    events = [json.loads(line) for line in shown.stdout.splitlines()]
    active = [e for e in events if e["type"] == "dev.twinstack.brainstem.active" and e["subject"] == "twin-kody-e89834"]
    assert len(active) == 2  # once from the Event Grid topic stand-in, once from the webhook
    assert {e["data"]["url"] for e in active} == {url} and len({e["id"] for e in active}) == 1

    with requests.get(feed[1], params={"after": 0}, timeout=10) as answer:
        via = [(item["via"], item["event"]["type"]) for item in answer.json()["events"]]
    assert via.count(("callback:kody", "dev.twinstack.brainstem.active")) == 1
    assert ("callback:kody", "dev.twinstack.brainstem.accepted") in via

    lines = twinctl(base, key, "events", "--feed", feed[1])
    assert f"active    twin-kody-e89834  {url}  (via callback:kody)" in lines.stdout
