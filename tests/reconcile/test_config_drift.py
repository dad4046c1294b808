"""Configuration drift against the ARM stand-in: settings, code version and tags changed out of band are
noticed by the reconcile (per twin and on /health), and POST .../repair puts them back."""

from __future__ import annotations

from controlplane.arm.clients import arm_clients
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from controlplane.settings import get_settings
from sandbox.rig import SECRET_ENV_KEYS, ControlPlaneRig
from tests.api.conftest import Api
from tests.reconcile.conftest import provision, reconcile

ENV_KEY = next(iter(SECRET_ENV_KEYS))


def _subscription() -> str:
    return get_settings().subscription_pool[0].subscription_id


def _drift_everything_by_hand(rig: ControlPlaneRig, name: str) -> None:
    """What a person with the portal or `az` does: retag the group, edit a setting, deploy other code."""
    names = twin_names(name)
    clients = arm_clients(_subscription())
    group = clients.resources.resource_groups.get(names.resource_group)
    clients.resources.resource_groups.create_or_update(
        names.resource_group, {"location": group.location, "tags": {**(group.tags or {}), "owner": "someone-else"}}
    )
    settings = dict(clients.web.web_apps.list_application_settings(names.resource_group, names.app_name).properties)
    settings[ENV_KEY] = "changed-by-hand"
    settings["WEBSITE_RUN_FROM_PACKAGE"] = rig.packages.url_template.format(deploy_ref="hotfix")
    clients.web.web_apps.update_application_settings(names.resource_group, names.app_name, {"properties": settings})


def test_drift_on_settings_code_and_tags_is_detected_and_repaired(rig: ControlPlaneRig, api: Api) -> None:
    kody = provision(api, "kody")
    molly = provision(api, "molly")
    reconcile(rig)
    assert default_registry().get(kody).drift is None  # as provisioned: nothing drifted
    _drift_everything_by_hand(rig, "kody")
    rig.arm.clear_requests()

    report = reconcile(rig)

    row = api.get(kody).json
    assert row["drift"] == ["app_settings", "deploy_ref", "tags"] and row["status"] == "active"
    assert api.get(molly).json["drift"] is None
    health = api.health()
    assert health["drifted"] == 1 and health["reconcile"]["drifted_names"] == [kody]
    assert "changed-by-hand" not in str(report) and SECRET_ENV_KEYS[ENV_KEY] not in str(row)  # names, never values
    # Cost: the two lists, and one settings read per sampled twin (two twins, under the per-run sample).
    calls = sorted(r.route for r in rig.arm.requests)
    assert calls == sorted(["resource_groups.list", "sites.list"] + ["sites.list_application_settings"] * 2)

    repaired = api.request("POST", f"/api/cp/brainstems/{kody}/repair")
    assert repaired.status == 202, repaired.body
    job = api.wait(repaired.json["job_id"])
    assert job["runtime_status"] == "Completed", job
    names = twin_names("kody")
    clients = arm_clients(_subscription())
    assert clients.resources.resource_groups.get(names.resource_group).tags["owner"] != "someone-else"
    settings = clients.web.web_apps.list_application_settings(names.resource_group, names.app_name).properties
    assert settings[ENV_KEY] == SECRET_ENV_KEYS[ENV_KEY]

    reconcile(rig)
    assert api.get(kody).json["drift"] is None
    assert api.health()["drifted"] == 0


def test_settings_are_read_for_a_sample_each_run_and_the_whole_fleet_over_runs() -> None:
    from controlplane.domain.config_drift import settings_sample

    twins = list(range(7))
    runs = [settings_sample(twins, per_run=3, run=run) for run in range(3)]
    assert all(len(sample) == 3 for sample in runs)
    assert set().union(*runs) == set(twins)  # ceil(7 / 3) = 3 runs read every twin
    assert settings_sample(twins, per_run=10, run=5) == twins
    assert settings_sample([], per_run=3, run=1) == [] and settings_sample(twins, per_run=0, run=1) == []
