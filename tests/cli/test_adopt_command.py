"""twinctl adopt against the real app through a front door: dry run, then adoption, then a no-op."""

from __future__ import annotations

import json

from controlplane.registry import default_registry
from controlplane.settings import get_settings
from sandbox.front_door import FrontDoor
from sandbox.rig import ControlPlaneRig
from tests.cli.test_fleet_commands import front, twinctl  # noqa: F401 - the front-door fixture
from tests.reconcile.script_twin import make_script_twin


def test_adopt_lists_then_adopts_then_changes_nothing(front: FrontDoor, rig: ControlPlaneRig) -> None:  # noqa: F811
    kody = make_script_twin("kody", subscription_id=get_settings().subscription_pool[0].subscription_id)

    dry = twinctl(front, rig, "adopt", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.startswith("would adopt: 1\n") and kody.cloud_id in dry.stdout
    assert not default_registry().exists(kody.cloud_id)

    adopted = twinctl(front, rig, "adopt", "--owner", "github:ops", "--json")
    assert adopted.exit_code == 0, adopted.stderr
    assert [a["cloud_id"] for a in json.loads(adopted.stdout)["adopted"]] == [kody.cloud_id]
    assert default_registry().get(kody.cloud_id).status.value == "active"

    again = twinctl(front, rig, "adopt")
    assert again.exit_code == 0 and again.stdout.startswith("adopted: 0\n")
