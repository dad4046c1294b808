"""twinctl delete / restore / audit against the real app through the front door (soft delete on)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from sandbox.durable import HeldClock
from sandbox.durable.event_loop import BackgroundLoop
from sandbox.front_door import FrontDoor, http_routes
from sandbox.rig import ControlPlaneRig
from sandbox.worker import app_worker
from tests.cli.test_fleet_commands import twinctl
from tests.workflows.twin_jobs import provision

KODY = "twin-kody-e89834"


@pytest.fixture
def rig(make_rig: Callable[..., ControlPlaneRig]) -> ControlPlaneRig:
    return make_rig(clock=HeldClock(), settings={"CP_DELETE_GRACE_SECONDS": "86400", "CP_DELETE_RATE_LIMIT": "1"})


@pytest.fixture
def front(rig: ControlPlaneRig) -> Iterator[FrontDoor]:
    assert rig.durable is not None
    loop = BackgroundLoop("front-door")
    door = FrontDoor(http_routes(app_worker().functions.values()), rig.call, rig.durable.base_url, port=0)
    loop.run(door.start())
    try:
        yield door
    finally:
        loop.run(door.close())
        loop.close()


def test_delete_restore_and_the_audit_trail_from_the_command_line(front: FrontDoor, rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    assert provision(rig, "molly").status == "Completed"
    deleted = twinctl(front, rig, "delete", KODY)
    assert deleted.exit_code == 0, deleted.stderr
    shown = json.loads(twinctl(front, rig, "get", KODY, "--json").stdout)
    assert shown["pending_delete"] is True and shown["status"] == "active"

    refused = twinctl(front, rig, "delete", "twin-molly-4181ee")  # past CP_DELETE_RATE_LIMIT=1
    assert refused.exit_code != 0 and "confirm" in refused.stderr.lower()
    assert twinctl(front, rig, "delete", "twin-molly-4181ee", "--confirm-bulk").exit_code == 0

    restored = twinctl(front, rig, "restore", KODY)
    assert restored.exit_code == 0, restored.stderr
    assert restored.stdout == f"{KODY}: active, pending_delete=false\n"

    records = json.loads(twinctl(front, rig, "audit", "--json").stdout)
    assert [r["action"] for r in records if r["target"] == KODY] == ["delete", "restore"]
    assert len([r for r in records if r["target"] == "twin-molly-4181ee"]) == 1  # the refused one is not a change
    table = twinctl(front, rig, "audit", "--cloud-id", KODY)
    assert table.exit_code == 0 and "restore" in table.stdout and "occurred_at" in table.stdout
    lines = twinctl(front, rig, "audit", "--jsonl", "--limit", "1").stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["action"] == "delete"


def test_repair_starts_a_job_and_waits_for_it(front: FrontDoor, rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    result = twinctl(front, rig, "repair", KODY, "--wait")
    assert result.exit_code == 0, result.stderr
    assert rig.brainstems is not None
    assert result.stdout == rig.brainstems.url_template.format(app_name=KODY) + "\n"
    records = json.loads(twinctl(front, rig, "audit", "--cloud-id", KODY, "--json").stdout)
    assert [r["action"] for r in records] == ["repair"]
