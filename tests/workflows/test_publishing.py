"""Publishing a deploy_ref's code and proving the twin runs it, for both hosting kinds.

Linux Consumption: the CLI's config-zip path (package in the twin's own storage, read SAS, settings,
trigger sync); the sandbox's brainstem host loads the package through that SAS from Azurite, so a SAS
Azurite refuses is a host that cannot start. Flex: One Deploy against the scm stand-in, whose
deployments fail with Storage's 403 until the app's fresh role grant applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from azure.storage.blob import BlobServiceClient

from controlplane.arm import function_apps
from controlplane.arm.clients import arm_clients
from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from sandbox.arm import ArmStandIn
from sandbox.durable.clock import VirtualClock
from sandbox.packages import brainstem_package
from sandbox.rig import ControlPlaneRig
from tests.workflows.twin_jobs import provision

KODY = "twin-kody-e89834"
FLEX = "azure-flex-py313"


def run_from_package(rig: ControlPlaneRig) -> str:
    [settings] = [d for rid, d in rig.arm.resources.items() if rid.lower().endswith(f"{KODY}/config/appsettings")]
    return str(settings["properties"]["WEBSITE_RUN_FROM_PACKAGE"])


def health(rig: ControlPlaneRig) -> requests.Response:
    return requests.get(rig.brainstems.url_template.format(app_name=KODY) + "api/health", timeout=5)  # type: ignore[union-attr]


def test_consumption_package_sas_is_read_only_and_lives_as_long_as_the_app(rig: ControlPlaneRig) -> None:
    started = datetime.now(UTC)
    assert provision(rig, "kody").status == "Completed"
    url = run_from_package(rig)
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"] and query["sr"] == ["b"]  # read, one blob
    expiry = datetime.fromisoformat(query["se"][0].replace("Z", "+00:00"))
    assert expiry - started > timedelta(weeks=519)  # the CLI's 520 weeks, not a 7-day user-delegation key
    assert requests.get(url, timeout=5).content == brainstem_package("abc123")  # Azurite honours it

    # A SAS Azurite refuses is a host that cannot load its code: the brainstem no longer answers.
    forged = url.replace("sig=", "sig=AAAA")
    arm_clients().web.web_apps.update_application_settings(
        "rg-twin-kody", KODY, {"properties": {"WEBSITE_RUN_FROM_PACKAGE": forged}}
    )
    assert requests.get(forged, timeout=5).status_code == 403
    assert health(rig).status_code == 503


def test_republishing_the_same_package_uploads_nothing_and_keeps_the_settings(
    rig: ControlPlaneRig, storage_connection: str
) -> None:
    assert provision(rig, "kody").status == "Completed"
    blob_path = urlsplit(run_from_package(rig)).path.split("/function-releases/", 1)[1]
    blob = BlobServiceClient.from_connection_string(storage_connection).get_blob_client("function-releases", blob_path)
    etag = blob.get_blob_properties().etag
    rig.arm.clear_requests()

    registry = default_registry()
    registry.update(KODY, lambda row: row.with_changes(status=Status.PROVISIONING, job_id="b" * 32))
    from controlplane.settings import get_settings
    from controlplane.workflows.job_inputs import job_for

    job = job_for(registry.get(KODY), get_settings()).to_input()
    assert rig.driver.run(Orchestration.PROVISION, job, instance_id="b" * 32).status == "Completed"  # type: ignore[union-attr]
    assert blob.get_blob_properties().etag == etag
    routes = [r.route for r in rig.arm.requests if r.method in ("PUT", "POST")]
    assert "sites.update_application_settings" not in routes  # the site PUT kept the published package
    assert routes[-1] == "sites.sync_function_triggers"
    assert urlsplit(run_from_package(rig)).path.endswith(blob_path)


def test_a_twin_that_runs_another_deploy_ref_never_becomes_active(rig: ControlPlaneRig) -> None:
    rig.packages.packages["abc123"] = brainstem_package("zzz999")  # the store serves the wrong build
    result = provision(rig, "kody")
    assert result.status == "Failed"
    error = default_registry().get(KODY).error
    assert error is not None and (error["step"], error["code"]) == ("readiness", "NotReady")
    assert "it runs zzz999, not abc123" in error["message"]
    assert health(rig).json() == {"status": "ok", "deploy_ref": "zzz999"}


def test_readiness_asks_the_route_not_the_landing_page(rig: ControlPlaneRig) -> None:
    result = provision(rig, "kody")
    assert result.status == "Completed"
    asked = {json.loads(e["Input"])["name"] for e in result.history if e.get("Name") == Activity.PROBE_BRAINSTEM}
    assert asked == {"kody"}
    # Before any code, the landing page would have answered 200; the route answers 404.
    row = default_registry().get(KODY)
    assert row.url is not None and requests.get(row.url + "api/health", timeout=5).status_code == 200


@pytest.fixture
def virtual_flex_rig(make_rig: Callable[..., ControlPlaneRig]) -> tuple[ControlPlaneRig, VirtualClock]:
    """A rig whose ARM stand-in keeps the Durable driver's virtual time: role grants apply after 90 of its seconds."""
    clock = VirtualClock()
    arm = ArmStandIn(clock=lambda: clock.now().timestamp(), role_propagation_seconds=90)
    return make_rig(arm=arm, clock=clock), clock


def test_one_deploy_waits_out_a_fresh_role_assignment_with_durable_timers(
    virtual_flex_rig: tuple[ControlPlaneRig, VirtualClock],
) -> None:
    rig, _ = virtual_flex_rig
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    statuses = [d.status for d in rig.scm.deployments.values()]  # type: ignore[union-attr]
    assert statuses[-1] == 4 and set(statuses[:-1]) == {3} and len(statuses) >= 2
    waits = [e for e in result.history if e.get("EventType") == 10]
    assert len(waits) >= len(statuses) - 1  # each refused deployment was followed by a durable timer
    assert health(rig).json() == {"status": "ok", "deploy_ref": "abc123"}
    # Trigger sync now succeeds: the app has its package (before it, the stand-in answers 400).
    function_apps.sync_triggers(arm_clients(), twin_names("kody"))


def test_a_failed_deployment_ends_the_twin_with_the_deployments_own_error(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    rig = make_rig()
    rig.packages.packages["abc123"] = b"this is not a zip"
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Failed"
    error = default_registry().get(KODY).error
    assert error is not None
    assert (error["step"], error["code"], error["transient"]) == ("publish", "DeploymentFailed", False)
    assert "status 3: The deployment package is not a valid zip file." in error["message"]
    # Started once, asked once, and not retried: a failed deployment is the package's fault, not a hiccup.
    executions = rig.driver.executions(Activity.PUBLISH_CODE)  # type: ignore[union-attr]
    assert ["following" in e.input for e in executions] == [False, True]
    assert health(rig).status_code == 404  # the app exists, its readiness route does not


def test_a_slow_deployment_is_followed_until_it_succeeds(make_rig: Callable[..., ControlPlaneRig]) -> None:
    rig = make_rig(deploy_seconds=1.5)
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    [deployment] = rig.scm.deployments.values()  # type: ignore[union-attr]
    assert deployment.status == 4


@pytest.fixture
def virtual_scm_rig(make_rig: Callable[..., ControlPlaneRig]) -> ControlPlaneRig:
    """A rig whose ARM and scm stand-ins keep the Durable driver's virtual time; a remote build takes 30 s of it."""
    clock = VirtualClock()
    return make_rig(arm=ArmStandIn(clock=lambda: clock.now().timestamp()), clock=clock, deploy_seconds=30)


def _publish_results(result: object) -> list[dict]:
    history = result.history  # type: ignore[attr-defined]
    names = {e["EventId"]: e["Name"] for e in history if e.get("EventType") == 4}
    return [
        json.loads(e["Result"])
        for e in history
        if e.get("EventType") == 5 and names.get(e["TaskScheduledId"]) == Activity.PUBLISH_CODE
    ]


def test_early_404s_while_a_deployment_comes_alive_are_waited_out(virtual_scm_rig: ControlPlaneRig) -> None:
    """azd's waitForDeployment: a new deployment's status may answer 404 at first; up to four are retried."""
    rig = virtual_scm_rig
    rig.scm.not_found_polls = 3  # type: ignore[union-attr]
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    seen = [r["following"]["not_found"] for r in _publish_results(result) if "following" in r]
    assert seen[:4] == [0, 1, 2, 3]  # each 404 counted, and the count carried to the next activity
    assert _publish_results(result)[-1]["done"] is True
    assert health(rig).json() == {"status": "ok", "deploy_ref": "abc123"}


def test_a_deployment_never_found_fails_the_publish_for_good(virtual_scm_rig: ControlPlaneRig) -> None:
    rig = virtual_scm_rig
    rig.scm.not_found_polls = 100  # type: ignore[union-attr]
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Failed"
    error = default_registry().get(KODY).error
    assert error is not None and (error["step"], error["code"], error["transient"]) == (
        "publish", "DeploymentNotFound", False,
    )  # fmt: skip
    follows = [e for e in rig.driver.executions(Activity.PUBLISH_CODE) if "following" in e.input]  # type: ignore[union-attr]
    assert len(follows) == 5  # four early 404s waited out, the fifth is final (azd: deploymentNotFoundAttempts <= 3)


def test_a_404_after_an_answer_means_the_worker_recycled_and_the_deployment_is_done(
    virtual_scm_rig: ControlPlaneRig,
) -> None:
    """azd: "a 404 after the deployment is complete ... due to the deployment worker being recycled"."""
    rig = virtual_scm_rig
    rig.scm.recycle_when_done = True  # type: ignore[union-attr]
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    results = _publish_results(result)
    building = [r for r in results if r.get("following", {}).get("answered")]
    assert building and {r["following"]["last_status"] for r in building} == {1}  # only "building" was ever seen
    assert results[-1] == {"done": True, "deploy_ref": "abc123", "deployment_id": building[0]["deployment_id"]}
    # ... and readiness, not the lost answer, proves the code runs.
    assert health(rig).json() == {"status": "ok", "deploy_ref": "abc123"}


def test_retry_after_from_the_scm_site_sets_the_wait_between_status_requests(
    virtual_scm_rig: ControlPlaneRig,
) -> None:
    rig = virtual_scm_rig
    rig.scm.retry_after_seconds = 12  # type: ignore[union-attr]
    result = provision(rig, "kody", runtime_target=FLEX)
    assert result.status == "Completed", result.error
    asked = [r.get("poll_after_seconds") for r in _publish_results(result) if r.get("following", {}).get("answered")]
    assert asked and set(asked) == {12}
    # The timers after those answers fire 12 s after they were set (virtual time: nothing asserted of the wall clock).
    timers = [e for e in result.history if e.get("EventType") == 10]
    gaps = {
        round(
            (
                datetime.fromisoformat(t["FireAt"].replace("Z", "+00:00"))
                - datetime.fromisoformat(t["Timestamp"].replace("Z", "+00:00"))
            ).total_seconds()
        )
        for t in timers
    }
    assert 12 in gaps
