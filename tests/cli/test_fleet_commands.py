"""twinctl update and rollout against the real app: a front door over the rig, no stub to drift."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from sandbox.durable.event_loop import BackgroundLoop
from sandbox.front_door import FrontDoor, http_routes
from sandbox.rig import ControlPlaneRig
from sandbox.worker import app_worker
from tests.cli.harness import TerminalStream
from tests.workflows.twin_jobs import provision
from twinctl.group import Runtime
from twinctl.main import cli  # the group with every command module registered

KODY = "twin-kody-e89834"


class ShortSleeps:
    """The CLI's clock, with every wait cut to a moment: the rig's jobs run on real threads."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(0.02)


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


def twinctl(front: FrontDoor, rig: ControlPlaneRig, *args: str, progress: TerminalStream | None = None) -> Result:
    runtime = Runtime(clock=ShortSleeps(), progress_stream=progress)
    env = {"TWINCTL_URL": None, "TWINCTL_TOKEN": None, "TWINCTL_KEY": rig.operator_key}
    result = CliRunner().invoke(cli, ["--url", front.base_url, *args], obj=runtime, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_update_waits_and_prints_the_url(front: FrontDoor, rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    result = twinctl(front, rig, "update", KODY, "--deploy-ref", "v2", "--wait")
    assert result.exit_code == 0, result.stderr
    assert rig.brainstems is not None
    assert result.stdout == rig.brainstems.url_template.format(app_name=KODY) + "\n"  # the URL alone
    shown = json.loads(twinctl(front, rig, "get", KODY, "--json").stdout)
    assert (shown["deploy_ref"], shown["previous_deploy_ref"]) == ("v2", "abc123")


def test_update_needs_exactly_one_of_its_options(front: FrontDoor, rig: ControlPlaneRig) -> None:
    assert twinctl(front, rig, "update", KODY).exit_code == 2
    assert twinctl(front, rig, "update", KODY, "--deploy-ref", "v2", "--refresh-settings").exit_code == 2


def test_a_followed_rollout_shows_its_waves_and_ends_completed(front: FrontDoor, rig: ControlPlaneRig) -> None:
    for name in ("kody", "molly"):
        assert provision(rig, name).status == "Completed"
    terminal = TerminalStream()
    result = twinctl(
        front, rig, "rollout", "start", "v2", "--canary", "1", "--parallelism", "1", "--follow", progress=terminal
    )
    assert result.exit_code == 0, result.stderr
    assert "completed · wave 1 · 2 updated, 0 failed" in result.stdout
    assert "wave 0" in terminal.getvalue()  # the live line a person watches
    rollout_id = result.stdout.split(":", 1)[0]
    status = json.loads(twinctl(front, rig, "rollout", "status", rollout_id, "--json").stdout)
    assert [w["succeeded"] for w in status["waves"]] == [1, 1]
    listed = json.loads(twinctl(front, rig, "rollout", "list", "--json").stdout)
    assert [r["rollout_id"] for r in listed] == [rollout_id]
    ended = twinctl(front, rig, "rollout", "pause", rollout_id)
    assert ended.exit_code == 4 and "has ended" in ended.stderr


def test_a_rollout_started_without_follow_prints_its_id(front: FrontDoor, rig: ControlPlaneRig) -> None:
    result = twinctl(front, rig, "rollout", "start", "v2", "--json")
    assert result.exit_code == 0 and len(json.loads(result.stdout)["rollout_id"]) == 32


def test_twinctl_refuses_what_the_api_refuses_and_no_more() -> None:
    """twinctl imports no server code, so its option bounds are copies: they must be the API's."""
    from controlplane.domain.rollouts import MAX_CANARY, MAX_PARALLELISM
    from twinctl.fleet_commands import rollout_start

    bounds = {param.name: param.type for param in rollout_start.params}
    assert (bounds["parallelism"].min, bounds["parallelism"].max) == (1, MAX_PARALLELISM)  # type: ignore[attr-defined]
    assert (bounds["canary"].min, bounds["canary"].max) == (1, MAX_CANARY)  # type: ignore[attr-defined]
