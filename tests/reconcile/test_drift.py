"""Drift against the ARM stand-in: what vanished outside the control plane is noticed, orphans are counted."""

from __future__ import annotations

import importlib

import pytest

from controlplane.arm import locks
from controlplane.arm.clients import arm_clients
from controlplane.domain.durable_names import Activity
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from controlplane.settings import get_settings
from sandbox.arm.faults import Fault
from sandbox.events import EventReceiver
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api
from tests.reconcile.conftest import provision, reconcile
from tests.reconcile.script_twin import make_script_twin


def subscription() -> str:
    return get_settings().subscription_pool[0].subscription_id


def delete_group_out_of_band(name: str) -> None:
    """What `az lock delete` then `az group delete` in a shell, or the portal, do: the control plane is not
    told. (The group's CanNotDelete lock refuses the delete alone: tests/workflows/test_locks.py.)"""
    clients = arm_clients(subscription())
    locks.remove_delete_lock(clients, twin_names(name))
    clients.resources.resource_groups.begin_delete(twin_names(name).resource_group).result()


def test_a_resource_group_deleted_out_of_band_is_noticed_and_orphans_are_counted(
    rig: ControlPlaneRig, api: Api
) -> None:
    kody = provision(api, "kody")
    molly = provision(api, "molly")
    orphan = make_script_twin("hand", subscription_id=subscription())
    delete_group_out_of_band("kody")
    rig.arm.clear_requests()

    report = reconcile(rig)

    row = default_registry().get(kody)
    assert row.status == Status.MISSING and row.error is not None
    assert row.error["code"] == "MissingInAzure" and row.error["noticed_at"] and "rg-twin-kody" in row.error["message"]
    assert default_registry().get(molly).status == Status.ACTIVE
    assert (report["missing"], report["orphans"]) == (1, 1)
    health = api.health()
    assert (health["missing"], health["orphans"]) == (1, 1)
    assert health["reconcile"]["orphan_names"] == [orphan.cloud_id]
    # Cost: one paged list of tagged groups and one of sites per subscription, no write. Configuration
    # drift (activities.config_drift) adds one settings read per sampled active twin: molly's here.
    routes = [r.route for r in rig.arm.requests]
    assert sorted(routes) == ["resource_groups.list", "sites.list", "sites.list_application_settings"]
    assert {r.method for r in rig.arm.requests if r.route != "sites.list_application_settings"} == {"GET"}

    # The owner can clear the row: a teardown of a twin whose group is already gone ends deleted.
    job = api.delete(kody)
    assert job.status == 202 and api.wait(job.json["job_id"])["runtime_status"] == "Completed"
    assert default_registry().get(kody).status == Status.DELETED


def test_a_missing_twin_whose_resources_come_back_is_active_again(rig: ControlPlaneRig, api: Api) -> None:
    ada = provision(api, "ada")
    delete_group_out_of_band("ada")
    reconcile(rig)
    assert default_registry().get(ada).status == Status.MISSING

    make_script_twin("ada", subscription_id=subscription())  # someone rebuilt it by hand
    reconcile(rig)

    row = default_registry().get(ada)
    assert row.status == Status.ACTIVE and row.error is None


def test_arm_failing_the_lists_delays_the_reconcile_and_changes_no_row(rig: ControlPlaneRig, api: Api) -> None:
    kody = provision(api, "kody")
    delete_group_out_of_band("kody")
    rig.arm.inject(Fault("resource_groups.list", "500", times=None))
    rig.arm.inject(Fault("sites.list", "429", times=None, retry_after=0))

    report = reconcile(rig)

    assert default_registry().get(kody).status == Status.ACTIVE  # nothing judged from lists it could not read
    assert "delayed" in report["subscriptions"][subscription()]
    assert api.health()["reconcile"]["subscriptions"][subscription()]["delayed"]

    rig.arm.clear_faults()
    reconcile(rig)
    assert default_registry().get(kody).status == Status.MISSING
    assert api.health()["reconcile"]["subscriptions"][subscription()]["delayed"] is None


def test_twins_found_missing_are_announced_a_page_of_jobs_at_a_time(
    make_rig,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    workflow = importlib.import_module("orchestrators.reconcile")  # the module (the package names its blueprint so)
    receiver = EventReceiver()
    rig = make_rig(events=receiver)
    api = Api(rig)
    monkeypatch.setattr(workflow, "MISSING_EVENTS_PAGE", 2)  # three twins: two pages of jobs
    twins = [provision(api, name, callback_url=receiver.hook_url(name)) for name in ("ann", "bob", "cyd")]
    for name in ("ann", "bob", "cyd"):
        delete_group_out_of_band(name)

    report = reconcile(rig)

    assert report["missing"] == 3
    for name, cloud_id in zip(("ann", "bob", "cyd"), twins, strict=True):
        [event] = receiver.events(f"callback:{name}", type="dev.twinstack.brainstem.missing")
        assert event["subject"] == cloud_id and event["data"]["error"]["code"] == "MissingInAzure"
    assert len(receiver.events("eventgrid", type="dev.twinstack.brainstem.missing")) == 3
    assert rig.driver is not None
    pages = [e.input for e in rig.driver.executions(Activity.MISSING_EVENT_JOBS, instance_id="reconcile-fleet")]
    assert sorted(len(page["cloud_ids"]) for page in pages) == [1, 2]
