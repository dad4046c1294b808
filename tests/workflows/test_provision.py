"""Provisioning through the real SDK clients, real Azurite and real Durable replay."""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest
import requests

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.registry import default_registry
from sandbox.arm import Fault
from sandbox.durable import check_replay_safety
from sandbox.packages import brainstem_package
from sandbox.rig import SECRET_ENV_KEYS, SUBSCRIPTION_ID, ControlPlaneRig, product_driver
from tests.workflows.twin_jobs import accept_twin, assert_never_recorded, provision

RG = f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/rg-twin-kody"
BUILD_ROUTES = [
    "web_names.check",
    "storage_names.check",
    "resource_groups.create_or_update",
    "locks.create_or_update",
    "storage_accounts.create",
    "storage_accounts.list_keys",
    "server_farms.create_or_update",
    "sites.create_or_update",
    "sites.update_application_settings",
    "sites.sync_function_triggers",
]


def writes(rig: ControlPlaneRig) -> dict[str, dict]:
    """The last body sent to each write route."""
    return {r.route: r.body for r in rig.arm.requests if r.method in ("PUT", "POST") and r.status < 300}


def test_kody_is_provisioned_exactly_as_the_script_would(rig: ControlPlaneRig) -> None:
    result = provision(rig, "kody")
    assert result.status == "Completed", result.error
    url = rig.brainstems.url_template.format(app_name="twin-kody-e89834")  # type: ignore[union-attr]
    assert result.output == {"status": "active", "cloud_id": "twin-kody-e89834", "url": url}

    row = default_registry().get("twin-kody-e89834")
    assert row.status == Status.ACTIVE and row.url == url and row.error is None
    # The twin proves it runs the requested code on its readiness route; its root has no landing page.
    health = requests.get(url + "api/health", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok", "deploy_ref": "abc123"})
    assert requests.get(url, timeout=5).status_code == 404

    assert [r.route for r in rig.arm.requests if r.method in ("PUT", "POST") and "list" not in r.route] == [
        "storage_names.check", "web_names.check",
        "resource_groups.create_or_update", "locks.create_or_update", "storage_accounts.create",
        "server_farms.create_or_update", "sites.create_or_update", "sites.update_application_settings",
        "sites.sync_function_triggers",
    ]  # fmt: skip
    sent = writes(rig)
    assert sent["locks.create_or_update"]["properties"]["level"] == "CanNotDelete"
    group = sent["resource_groups.create_or_update"]
    assert group["location"] == "eastus2"
    assert group["tags"] == {
        "twin": "kody", "stack": "TwinStack", "owner": "wildhaven-ai-homes",
        "twinstack-owner": "github:alice", "twinstack-cloud-id": "twin-kody-e89834",
    }  # fmt: skip
    account = sent["storage_accounts.create"]
    assert account["kind"] == "StorageV2" and account["sku"] == {"name": "Standard_LRS"}
    assert account["properties"] == {
        "supportsHttpsTrafficOnly": True,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
    }
    plan = sent["server_farms.create_or_update"]
    assert plan["sku"] == {"name": "Y1", "tier": "Dynamic"} and plan["properties"]["reserved"] is True
    site = sent["sites.create_or_update"]
    assert site["kind"] == "functionapp,linux"
    properties = site["properties"]
    assert properties["httpsOnly"] is True and properties["reserved"] is True
    assert properties["serverFarmId"].lower().endswith("/providers/microsoft.web/serverfarms/plan-twin-kody-e89834")
    config = properties["siteConfig"]
    assert (config["linuxFxVersion"], config["ftpsState"], config["minTlsVersion"]) == (
        "Python|3.11",
        "Disabled",
        "1.2",
    )
    settings = {s["name"]: s["value"] for s in config["appSettings"]}
    assert settings["FUNCTIONS_EXTENSION_VERSION"] == "~4" and settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert settings["AzureWebJobsDisableHomepage"] == "true"
    assert "WEBSITE_RUN_FROM_PACKAGE" not in settings  # the code comes after the build, as config-zip does it
    assert settings["AzureWebJobsStorage"].startswith(
        "DefaultEndpointsProtocol=https;AccountName=sttwinkodye89834;AccountKey="
    )
    assert {k: settings[k] for k in SECRET_ENV_KEYS} == SECRET_ENV_KEYS
    # The content-share pair `az functionapp create` sets for a Consumption app (azure-cli create_functionapp):
    # the app's storage, and a share named like the CLI's _get_content_share_name (name + 12 hex digits).
    assert settings["WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"] == settings["AzureWebJobsStorage"]
    assert re.fullmatch(r"twin-kody-e89834[0-9a-f]{12}", settings["WEBSITE_CONTENTSHARE"])

    published = sent["sites.update_application_settings"]["properties"]
    assert {k: v for k, v in published.items() if k != "WEBSITE_RUN_FROM_PACKAGE"} == settings
    assert (
        published["WEBSITE_RUN_FROM_PACKAGE"]
        .split("?")[0]
        .endswith(
            "/function-releases/twin-kody-e89834/abc123-"
            + hashlib.sha256(brainstem_package("abc123")).hexdigest()[:16]
            + ".zip"
        )
    )

    steps = [e["Name"] for e in result.history if e.get("EventType") == 4]
    # Each ARM step's requests are booked in the fleet-wide budget just before it (issue 18).
    assert steps == [
        Activity.RESERVE_ARM_WRITES,
        Activity.CHECK_NAMES,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_RESOURCE_GROUP,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_STORAGE_ACCOUNT,  # begins the create; the orchestration polls it on a durable timer
        Activity.POLL_ARM_OPERATION,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_FUNCTION_PLAN,  # the rig's ARM answers the web PUTs with 200: nothing to poll
        Activity.RESERVE_ARM_WRITES,
        Activity.BEGIN_FUNCTION_SITE,
        Activity.FINISH_FUNCTION_APP,  # Linux Consumption: one read, nothing to book
        Activity.RESERVE_ARM_WRITES,
        Activity.PUBLISH_CODE,
        Activity.PROBE_BRAINSTEM,
        Activity.MARK_ACTIVE,
    ]


def test_molly_gets_her_own_names(rig: ControlPlaneRig) -> None:
    result = provision(rig, "molly", owner="github:bob")
    assert result.status == "Completed", result.error
    assert "rg-twin-molly" in rig.arm.resource_groups(SUBSCRIPTION_ID)
    assert writes(rig)["sites.create_or_update"]["properties"]["siteConfig"]["linuxFxVersion"] == "Python|3.11"
    assert default_registry().get("twin-molly-4181ee").owner == "github:bob"


def test_rerunning_a_finished_provision_converges_with_idempotent_puts(rig: ControlPlaneRig) -> None:
    assert provision(rig, "kody").status == "Completed"
    before = {rid: body for rid, body in rig.arm.resources.items()}
    rig.arm.clear_requests()
    # The same twin provisioned again (as for an errored twin, or one first made by hand).
    registry = default_registry()
    again = "f" * 32
    registry.update("twin-kody-e89834", lambda row: row.with_changes(status=Status.PROVISIONING, job_id=again))
    from controlplane.settings import get_settings
    from controlplane.workflows.job_inputs import job_for

    job = job_for(registry.get("twin-kody-e89834"), get_settings()).to_input()
    result = rig.driver.run(Orchestration.PROVISION, job, instance_id=again)  # type: ignore[union-attr]
    assert result.status == "Completed", result.error
    assert {r.method for r in rig.arm.requests} <= {"PUT", "GET", "POST", "HEAD"}
    assert sorted(rig.arm.resources) == sorted(before)
    assert len(rig.arm.resource_groups(SUBSCRIPTION_ID)) == 1


def test_building_a_consumption_twin_again_keeps_the_content_share_it_has(rig: ControlPlaneRig) -> None:
    # Learn (App settings reference, WEBSITE_CONTENTSHARE): "Changing or removing this setting may cause
    # your function app to not start" - a twin first made by `az functionapp create` has a random share.
    from controlplane.arm.clients import arm_clients
    from controlplane.settings import get_settings
    from controlplane.workflows.job_inputs import job_for

    assert provision(rig, "kody").status == "Completed"
    web = arm_clients().web.web_apps
    settings = web.list_application_settings("rg-twin-kody", "twin-kody-e89834").properties
    web.update_application_settings(
        "rg-twin-kody",
        "twin-kody-e89834",
        {"properties": {**settings, "WEBSITE_CONTENTSHARE": "twin-kody-e8983412ab34"}},
    )
    registry = default_registry()
    again = "e" * 32
    registry.update("twin-kody-e89834", lambda row: row.with_changes(status=Status.PROVISIONING, job_id=again))
    job = job_for(registry.get("twin-kody-e89834"), get_settings()).to_input()
    assert rig.driver.run(Orchestration.PROVISION, job, instance_id=again).status == "Completed"  # type: ignore[union-attr]
    kept = web.list_application_settings("rg-twin-kody", "twin-kody-e89834").properties
    assert kept["WEBSITE_CONTENTSHARE"] == "twin-kody-e8983412ab34"


@pytest.mark.parametrize("route", BUILD_ROUTES)
@pytest.mark.parametrize(
    ("kind", "times"),
    [
        ("429", 2),
        ("500", 2),
        ("409", 2),  # AnotherOperationInProgress: azure-core does not retry it; a durable retry does
    ],
    ids=["429x2", "500x2", "409x2"],
)
def test_transient_faults_at_every_step_still_end_active(
    rig: ControlPlaneRig, route: str, kind: str, times: int
) -> None:
    rig.arm.inject(Fault(route=route, kind=kind, times=times, retry_after=1))
    result = provision(rig, "kody")
    assert result.status == "Completed", result.error
    assert default_registry().get("twin-kody-e89834").status == Status.ACTIVE
    failed = [r for r in rig.arm.requests if r.route == route and r.status >= 400]
    assert len(failed) == times


@pytest.mark.parametrize(
    ("route", "step"),
    [
        ("resource_groups.create_or_update", "resource_group"),
        ("storage_accounts.create", "storage_account"),
        ("storage_accounts.list_keys", "function_app"),
        ("server_farms.create_or_update", "function_app"),
        ("sites.create_or_update", "function_app"),
    ],
)
def test_a_permanent_failure_at_each_step_ends_errored_with_the_step(
    rig: ControlPlaneRig, route: str, step: str
) -> None:
    rig.arm.inject(
        Fault(route=route, kind="error", status=403, code="AuthorizationFailed", message="no permission", times=None)
    )
    result = provision(rig, "kody")
    assert result.status == "Failed"
    assert f"{step} failed: AuthorizationFailed" in (result.error or "")
    row = default_registry().get("twin-kody-e89834")
    assert row.status == Status.ERRORED
    assert row.error == {
        "step": step,
        "code": "AuthorizationFailed",
        "message": "no permission",
        "status": 403,
        "transient": False,
    }
    # Permanent means no retry: ARM saw the failing call once.
    assert len([r for r in rig.arm.requests if r.route == route]) == 1


def test_a_failed_long_running_operation_ends_errored_with_armS_code(rig: ControlPlaneRig) -> None:
    rig.arm.inject(
        Fault(
            route="storage_accounts.create",
            kind="lro_failed",
            code="StorageQuotaExceeded",
            message="250 accounts",
            times=None,
        )
    )
    result = provision(rig, "kody")
    assert result.status == "Failed"
    error = default_registry().get("twin-kody-e89834").error
    assert error is not None and error["step"] == "storage_account" and error["code"] == "StorageQuotaExceeded"


def test_transient_faults_that_outlast_the_retries_end_errored(rig: ControlPlaneRig) -> None:
    rig.arm.inject(Fault(route="server_farms.create_or_update", kind="409", times=None))
    result = provision(rig, "kody")
    assert result.status == "Failed"
    error = default_registry().get("twin-kody-e89834").error
    assert error is not None and (error["step"], error["code"], error["transient"]) == (
        "function_app",
        "AnotherOperationInProgress",
        True,
    )
    attempts = [e for e in rig.driver.executions(Activity.ENSURE_FUNCTION_PLAN)]  # type: ignore[union-attr]
    assert len(attempts) == 3  # CP_ACTIVITY_MAX_ATTEMPTS in the rig


def test_readiness_waits_with_durable_timers_for_a_cold_app(rig: ControlPlaneRig) -> None:
    rig.brainstems.boot_failures["twin-kody-e89834"] = 3  # type: ignore[union-attr]
    result = provision(rig, "kody")
    assert result.status == "Completed", result.error
    first_probe = next(
        i for i, e in enumerate(result.history) if e.get("EventType") == 4 and e["Name"] == Activity.PROBE_BRAINSTEM
    )
    # (earlier timers are the storage create's polls)
    timers = [e for e in result.history[first_probe:] if e.get("EventType") == 10]
    assert len(timers) == 3  # one durable timer between each failed probe and the next
    assert len(rig.driver.executions(Activity.PROBE_BRAINSTEM)) == 4  # type: ignore[union-attr]


def test_an_app_that_never_answers_ends_errored_at_readiness(rig: ControlPlaneRig) -> None:
    rig.brainstems.boot_failures["twin-kody-e89834"] = 10_000  # type: ignore[union-attr]
    result = provision(rig, "kody")
    assert result.status == "Failed"
    error = default_registry().get("twin-kody-e89834").error
    assert error is not None and (error["step"], error["code"]) == ("readiness", "NotReady")


def test_progress_is_reported_in_custom_status(rig: ControlPlaneRig) -> None:
    result = provision(rig, "kody")
    assert result.custom_status == {"step": "active", "cloud_id": "twin-kody-e89834"}


def test_a_crash_after_any_history_event_resumes_to_the_same_end(rig: ControlPlaneRig) -> None:
    job = accept_twin("kody")
    registry = default_registry()

    def fresh_row() -> None:
        registry.update("twin-kody-e89834", lambda row: row.with_changes(status=Status.PROVISIONING, url=None))

    cases = check_replay_safety(
        product_driver,
        Orchestration.PROVISION,
        job,
        instance_id=job["job_id"],
        before_each_run=fresh_row,
        timeout=30,
        # A begun create is polled until ARM is done; a run whose PUT finds the account made answers 200
        # and polls nothing, so how often it polls is not compared (replay_check's ``polls``).
        polls=frozenset({"poll_arm_operation"}),
    )
    assert len(cases) >= 15
    assert registry.get("twin-kody-e89834").status == Status.ACTIVE


def test_no_secret_reaches_history_rows_or_logs(rig: ControlPlaneRig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rig.arm.inject(Fault(route="sites.create_or_update", kind="500", times=1))
    result = provision(rig, "kody")
    assert result.status == "Completed", result.error
    keys = [body for rid, body in rig.arm.resources.items() if rid.endswith("/keys")]
    storage_keys = [k["value"] for entry in keys for k in entry.get("keys", [])]
    assert storage_keys, "the stand-in should hold the account's keys"
    [settings] = [d for rid, d in rig.arm.resources.items() if rid.lower().endswith("/config/appsettings")]
    package_sas = settings["properties"]["WEBSITE_RUN_FROM_PACKAGE"].split("?", 1)[1]
    secrets = [*SECRET_ENV_KEYS.values(), *storage_keys, "AccountKey=", package_sas, "sig="]

    assert_never_recorded(secrets, result, caplog.records)


def test_plan_and_site_puts_answered_asynchronously_still_end_active(make_rig) -> None:  # type: ignore[no-untyped-def]
    """The Web provider may answer a plan or site PUT with 202 + Azure-AsyncOperation (the spec's examples)."""
    from sandbox.arm import ArmStandIn

    rig = make_rig(arm=ArmStandIn(web_puts="async", latency={"sites.create_or_update": 1.0}))
    result = provision(rig, "kody")
    assert result.status == "Completed", result.error
    answers = [(r.route, r.status) for r in rig.arm.requests]
    assert ("sites.create_or_update", 202) in answers and ("server_farms.create_or_update", 202) in answers
    assert ("operations.get", 200) in answers
    # Each 202 is followed on durable timers by the orchestration, not inside the activity that sent it:
    # a poll_arm_operation after the plan, and after the site, before the next step begins.
    steps = [e["Name"] for e in result.history if e.get("EventType") == 4 and e["Name"] != Activity.RESERVE_ARM_WRITES]
    plan, site = steps.index(Activity.ENSURE_FUNCTION_PLAN), steps.index(Activity.BEGIN_FUNCTION_SITE)
    assert steps[plan + 1] == Activity.POLL_ARM_OPERATION and Activity.POLL_ARM_OPERATION in steps[plan + 1 : site]
    assert steps[site + 1] == Activity.POLL_ARM_OPERATION and steps[-4:] == [
        Activity.FINISH_FUNCTION_APP, Activity.PUBLISH_CODE, Activity.PROBE_BRAINSTEM, Activity.MARK_ACTIVE,
    ]  # fmt: skip
    results = [json.loads(e["Result"]) for e in result.history if e.get("EventType") == 5]
    assert sum(1 for r in results if r.get("operation_url")) == 3  # the storage account's, the plan's, the site's

    # An update's site PUT is followed the same way, under the update's fence.
    from tests.workflows.twin_jobs import update

    rig.arm.clear_requests()
    updated = update(rig, "twin-kody-e89834", "v2")
    assert updated.status == "Completed", updated.error
    scheduled = [e for e in updated.history if e.get("EventType") == 4 and e["Name"] != Activity.RESERVE_ARM_WRITES]
    names = [e["Name"] for e in scheduled]
    assert names[:2] == [Activity.PUBLISH_UPDATE, Activity.POLL_ARM_OPERATION]
    polls = [json.loads(e["Input"]) for e in scheduled if e["Name"] == Activity.POLL_ARM_OPERATION]
    assert polls and all(p["fence"] == "updating" for p in polls)
    assert Activity.FINISH_FUNCTION_APP in names and ("sites.create_or_update", 202) in [
        (r.route, r.status) for r in rig.arm.requests
    ]
