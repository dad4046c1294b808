"""Updating one twin through the real SDK clients, real Azurite and real Durable replay."""

from __future__ import annotations

import pytest

from controlplane.domain.lifecycle import Status
from controlplane.registry import default_registry
from controlplane.service.errors import AlreadyUpdating, NotActive
from controlplane.service.updates import claim_for_update
from controlplane.settings import get_settings
from sandbox.arm import Fault
from sandbox.durable import check_replay_safety
from sandbox.rig import ControlPlaneRig, product_driver
from tests.workflows.twin_jobs import begin_teardown, begin_update, provision, update

KODY = "twin-kody-e89834"


def package_sent(rig: ControlPlaneRig) -> str:
    """The deploy_ref of the last package WEBSITE_RUN_FROM_PACKAGE was pointed at (config-zip's blob
    ``function-releases/<app>/<deploy_ref>-<sha256 prefix>.zip``, with a read SAS)."""
    sent: list[str] = []
    for r in rig.arm.requests:
        if r.status >= 300 or r.route not in ("sites.create_or_update", "sites.update_application_settings"):
            continue
        if r.route == "sites.create_or_update":
            settings = {s["name"]: s["value"] for s in r.body["properties"]["siteConfig"]["appSettings"]}
        else:
            settings = r.body["properties"]
        if "WEBSITE_RUN_FROM_PACKAGE" in settings:
            sent.append(str(settings["WEBSITE_RUN_FROM_PACKAGE"]))
    blob = sent[-1].split("?")[0].rsplit("/", 1)[1]
    return blob.rsplit("-", 1)[0]


def test_an_update_moves_the_twin_to_the_new_deploy_ref_and_keeps_the_previous(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    result = update(rig, KODY, "v2")
    assert result.status == "Completed", result.error
    assert result.output["deploy_ref"] == "v2"
    row = default_registry().get(KODY)
    assert (row.status, row.deploy_ref, row.previous_deploy_ref, row.target_deploy_ref) == (
        Status.ACTIVE, "v2", "abc123", None,
    )  # fmt: skip
    assert package_sent(rig) == "v2"


def test_a_failed_update_leaves_the_twin_running_its_previous_code_with_the_error(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    rig.arm.inject(Fault(route="sites.create_or_update", kind="error", status=400, code="BadRequest", message="bad"))
    result = update(rig, KODY, "v2")
    assert result.status == "Failed" and "publish failed: BadRequest" in (result.error or "")
    row = default_registry().get(KODY)
    assert (row.status, row.deploy_ref, row.target_deploy_ref) == (Status.ACTIVE, "abc123", None)
    assert row.error is not None and (row.error["step"], row.error["code"]) == ("publish", "BadRequest")
    assert package_sent(rig) == "abc123"  # the way back was published last


def test_only_an_active_twin_can_be_updated_and_only_by_one_job_at_a_time(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    begin_update(KODY, "v2")
    with pytest.raises(AlreadyUpdating) as taken:  # a 409 that says what conflicted: the update under way
        begin_update(KODY, "v3")
    assert taken.value.extensions["job_id"] == default_registry().get(KODY).job_id
    begin_teardown(KODY)
    with pytest.raises(NotActive):
        begin_update(KODY, "v3")


def test_a_teardown_waits_for_a_running_update(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    update_job = begin_update(KODY, "v2")
    teardown_job = begin_teardown(KODY)
    assert teardown_job["previous_job_id"] == update_job["job_id"]


def test_an_update_resumes_to_the_same_end_after_a_crash_at_any_event(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    job = begin_update(KODY, "v2")
    registry = default_registry()

    def claimed_again() -> None:
        registry.update(
            KODY,
            lambda row: row.with_changes(
                status=Status.UPDATING, job_id=job["job_id"], deploy_ref="abc123", target_deploy_ref="v2"
            ),
        )

    cases = check_replay_safety(
        product_driver,
        "update_brainstem",
        job,
        instance_id=job["job_id"],
        before_each_run=claimed_again,
        timeout=30,
    )
    assert len(cases) >= 8
    assert registry.get(KODY).deploy_ref == "v2"


KV = "@Microsoft.KeyVault(SecretUri=https://kv-twins.vault.azure.net/secrets/kody-key)"


def site_settings(rig: ControlPlaneRig) -> dict[str, str]:
    site = [r for r in rig.arm.requests if r.route == "sites.create_or_update" and r.status < 300][-1].body
    return {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}


def test_an_update_gives_the_twin_its_own_key_vault_references(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    job, _ = claim_for_update(KODY, None, default_registry(), get_settings(), app_settings={"KODY_KEY": KV})
    assert rig.driver is not None
    assert rig.driver.run("update_brainstem", job.to_input(), instance_id=job.job_id).status == "Completed"
    assert site_settings(rig)["KODY_KEY"] == KV
    row = default_registry().get(KODY)
    assert (row.app_settings, row.target_app_settings, row.deploy_ref) == ({"KODY_KEY": KV}, None, "abc123")
    # A later update keeps them; null removes one.
    job, _ = claim_for_update(KODY, "v2", default_registry(), get_settings())
    assert rig.driver.run("update_brainstem", job.to_input(), instance_id=job.job_id).status == "Completed"
    assert site_settings(rig)["KODY_KEY"] == KV
    job, _ = claim_for_update(KODY, None, default_registry(), get_settings(), app_settings={"KODY_KEY": None})
    assert rig.driver.run("update_brainstem", job.to_input(), instance_id=job.job_id).status == "Completed"
    assert "KODY_KEY" not in site_settings(rig) and default_registry().get(KODY).app_settings is None


def test_a_failed_settings_update_puts_the_previous_settings_back(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    rig.arm.inject(Fault(route="sites.create_or_update", kind="error", status=400, code="BadRequest", message="bad"))
    job, _ = claim_for_update(KODY, "v2", default_registry(), get_settings(), app_settings={"KODY_KEY": KV})
    assert rig.driver is not None
    assert rig.driver.run("update_brainstem", job.to_input(), instance_id=job.job_id).status == "Failed"
    assert "KODY_KEY" not in site_settings(rig)
    row = default_registry().get(KODY)
    assert (row.status, row.app_settings, row.target_app_settings) == (Status.ACTIVE, None, None)


def test_an_update_writes_the_site_and_keeps_the_plan(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    before = len(rig.arm.requests)
    assert update(rig, KODY, "v2").status == "Completed"
    routes = [r.route for r in rig.arm.requests[before:] if r.method in ("PUT", "POST", "PATCH", "DELETE")]
    # The plan is read, not written: ARM's write budget goes to the site, where the change is. Then
    # config-zip's publish (issue 13): read the settings (a POST), set the package, sync triggers. Both
    # the build and the publish read the settings (the site PUT keeps the published package). The
    # build reads the key for the connection string, the publish for the package's SAS (the sandbox
    # still reads it from ARM, though the blob goes to Azurite, so that ARM sees what Azure would).
    assert sorted(routes) == [
        "sites.create_or_update", "sites.list_application_settings", "sites.list_application_settings",
        "sites.sync_function_triggers", "sites.update_application_settings", "storage_accounts.list_keys",
        "storage_accounts.list_keys",
    ]  # fmt: skip
    assert "server_farms.get" in [r.route for r in rig.arm.requests[before:]]
