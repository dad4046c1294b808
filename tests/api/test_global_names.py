"""Global names: a twin whose site or storage name someone else in Azure holds ends cleanly, leaving nothing.

Site and storage account names are global across Azure customers and a twin's names are derived from
its name, so the control plane asks Microsoft.Web and Microsoft.Storage checkNameAvailability before it
creates anything. The ARM stand-in answers from its own resources and from names "held elsewhere".
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from controlplane.domain.durable_names import Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from sandbox.arm import Fault
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig
from tests.api.conftest import Api

KODY = twin_names("kody")


@pytest.fixture
def one_place(make_rig: Callable[..., ControlPlaneRig]) -> Api:
    """A pool with room for exactly one twin in eastus2 and one in westindia: a leaked place would show.

    West India offers no Flex Consumption (it is not among the 32 regions of Microsoft's Flex quickstart,
    sandbox/arm/names.py), so a Flex twin there is refused; every default allowed region offers Flex now.
    """
    pool = [{"subscription_id": SUBSCRIPTION_ID, "regions": ["eastus2", "westindia"], "max_twins_per_region": 1}]
    settings = {"CP_SUBSCRIPTION_POOL": json.dumps(pool), "CP_ALLOWED_REGIONS": "eastus2,westindia"}
    return Api(make_rig(settings=settings))


def _writes(api: Api) -> list[str]:
    return [r.route for r in api.rig.arm.requests if r.method in ("PUT", "DELETE")]


@pytest.mark.parametrize(
    ("kind", "held", "code", "named"),
    [
        ("site", KODY.app_name, "SiteNameUnavailable", f"site {KODY.app_name}.azurewebsites.net"),
        ("storage", KODY.storage_account, "StorageAccountNameUnavailable", f"storage account {KODY.storage_account}"),
    ],
    ids=["site-name-held-elsewhere", "storage-name-held-elsewhere"],
)
def test_a_name_held_elsewhere_ends_the_create_before_anything_exists(
    one_place: Api, kind: str, held: str, code: str, named: str
) -> None:
    one_place.rig.arm.platform.hold_name(kind, held)
    accepted = one_place.post({"name": "kody", "owner": "github:a", "region": "eastus2"})
    assert accepted.status == 202
    assert one_place.wait(accepted.json["job_id"])["runtime_status"] == "Failed"

    row = one_place.get(KODY.cloud_id).json
    assert row["status"] == "errored"
    assert (row["error"]["step"], row["error"]["code"], row["error"]["transient"]) == ("names", code, False)
    assert named in row["error"]["message"] and "elsewhere in Azure" in row["error"]["message"]
    assert _writes(one_place) == []  # no resource group, nothing to clean up
    assert one_place.rig.arm.resource_groups(SUBSCRIPTION_ID) == {}
    # Never retried: one check of that name, and the twin's place in eastus2 is free again.
    checks = [r for r in one_place.rig.arm.requests if r.route.endswith("names.check")]
    assert len([r for r in checks if r.body and r.body["name"] == held]) == 1
    other = one_place.post({"name": "molly", "owner": "github:a", "region": "eastus2"})
    assert other.status == 202
    assert one_place.wait(other.json["job_id"])["runtime_status"] == "Completed"


def test_names_the_twin_already_holds_do_not_count_as_taken(one_place: Api) -> None:
    first = one_place.post({"name": "kody", "owner": "github:a", "region": "eastus2"})
    assert one_place.wait(first.json["job_id"])["runtime_status"] == "Completed"
    # Azure now says both names are unavailable: they are this twin's own. Provisioning it again passes.
    arm = one_place.rig.arm
    arm.clear_requests()
    from controlplane.registry import default_registry
    from controlplane.settings import get_settings
    from controlplane.workflows.job_inputs import job_for

    registry = default_registry()
    registry.update(KODY.cloud_id, lambda row: row.with_changes(status=Status.PROVISIONING, job_id="c" * 32))
    job = job_for(registry.get(KODY.cloud_id), get_settings()).to_input()
    assert one_place.rig.driver.run(Orchestration.PROVISION, job, instance_id="c" * 32).status == "Completed"  # type: ignore[union-attr]
    assert [r.status for r in arm.requests if r.route.endswith("names.check")] == [200, 200]


def test_flex_in_a_region_that_does_not_offer_it_ends_before_anything_exists(one_place: Api) -> None:
    accepted = one_place.post(
        {"name": "kody", "owner": "github:a", "region": "westindia", "runtime_target": "azure-flex-py311"}
    )
    assert one_place.wait(accepted.json["job_id"])["runtime_status"] == "Failed"
    error = one_place.get(KODY.cloud_id).json["error"]
    assert (error["step"], error["code"]) == ("names", "FlexConsumptionNotOffered")
    assert "westindia" in error["message"] and "eastus2" in error["message"]
    assert _writes(one_place) == []


def test_a_409_conflict_from_app_service_is_permanent_not_retried(one_place: Api) -> None:
    """The name was free at the check and taken a moment later: App Service's bare 409 Conflict."""
    one_place.rig.arm.inject(
        Fault(route="sites.create_or_update", kind="error", status=409, code="Conflict",
              message="Website with given name twin-kody-e89834 already exists.", times=None)
    )  # fmt: skip
    accepted = one_place.post({"name": "kody", "owner": "github:a", "region": "eastus2"})
    assert one_place.wait(accepted.json["job_id"])["runtime_status"] == "Failed"
    error = one_place.get(KODY.cloud_id).json["error"]
    assert (error["step"], error["code"], error["status"], error["transient"]) == (
        "function_app",
        "Conflict",
        409,
        False,
    )
    assert len([r for r in one_place.rig.arm.requests if r.route == "sites.create_or_update"]) == 1
