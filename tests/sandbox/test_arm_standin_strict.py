"""The stand-ins are at least as strict as Azure where the product relies on them (each rule cites its source
in the stand-in's module): api-versions, built-in roles and their propagation delay, Flex regions, the
async PUT shape, global names, trigger sync without code, One Deploy's wire, a brainstem without code.
"""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from sandbox.arm import ArmStandIn
from sandbox.arm.rights import OWNER
from sandbox.brainstems import BrainstemHosts
from sandbox.packages import brainstem_package
from sandbox.scm import ScmSites
from tests.sandbox.test_arm_standin import ARM_TOKEN, GROUP, SUBSCRIPTION, Clients, clients_for, raw, storage_body
from tests.sandbox.test_arm_standin_flex import flex_plan, flex_site

BLOB_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"


class Tick:
    """A clock the test moves by hand (the stand-in's role propagation and operations follow it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def tick() -> Tick:
    return Tick()


@pytest.fixture
def arm(tick: Tick):
    with ArmStandIn(clock=tick, role_propagation_seconds=60) as stand_in:
        yield stand_in


@pytest.fixture
def clients(arm: ArmStandIn) -> Clients:
    made = clients_for(arm)
    made.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
    made.storage.storage_accounts.begin_create(GROUP, "sttwinflex0001", storage_body()).result()
    return made


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2099-01-01", "InvalidApiVersionParameter"),
        (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Storage/storageAccounts/"
            "sttwinflex0001?api-version=2015-01-01",
            "NoRegisteredProviderFound",
        ),
        (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Web/sites/x?api-version=2014-01-01",
            "NoRegisteredProviderFound",
        ),
    ],
    ids=["resources", "storage", "web"],
)
def test_an_api_version_the_provider_does_not_publish_is_refused(
    arm: ArmStandIn, clients: Clients, path: str, code: str
) -> None:
    answer = raw(arm, "GET", path)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == code
    assert "supported" in answer.json()["error"]["message"]


def test_a_role_definition_must_be_a_real_built_in_role(arm: ArmStandIn, clients: Clients) -> None:
    scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    made_up = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{'1' * 8}-1111-1111-1111-{'1' * 12}"
    grant = {"properties": {"roleDefinitionId": made_up, "principalId": "p-1", "principalType": "ServicePrincipal"}}
    # The pool's constrained caller is refused before the role is even looked at (ARM authorizes first) ...
    with pytest.raises(HttpResponseError) as caught:
        clients.authorization.role_assignments.create(scope, "6f2d1c0e-0000-4000-8000-000000000001", grant)
    assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"
    # ... an unconstrained one learns the role does not exist.
    with ArmStandIn(caller_rights=OWNER) as owner_arm:
        owner = clients_for(owner_arm)
        owner.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
        with pytest.raises(HttpResponseError) as caught:
            owner.authorization.role_assignments.create(scope, "6f2d1c0e-0000-4000-8000-000000000001", grant)
    assert caught.value.status_code == 400 and caught.value.error.code == "RoleDefinitionDoesNotExist"


def test_a_new_role_assignment_applies_only_after_its_propagation_delay(
    arm: ArmStandIn, clients: Clients, tick: Tick
) -> None:
    account = clients.storage.storage_accounts.get_properties(GROUP, "sttwinflex0001").id
    role = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_OWNER}"
    clients.authorization.role_assignments.create(
        account,
        "6f2d1c0e-0000-4000-8000-000000000002",
        {"properties": {"roleDefinitionId": role, "principalId": "p-1", "principalType": "ServicePrincipal"}},
    )
    assert not arm.platform.grant_effective(principal="p-1", scope=account, role_ids={BLOB_OWNER})
    tick.now += 59
    assert not arm.platform.grant_effective(principal="p-1", scope=account, role_ids={BLOB_OWNER})
    tick.now += 1
    assert arm.platform.grant_effective(principal="p-1", scope=account, role_ids={BLOB_OWNER})
    assert not arm.platform.grant_effective(principal="p-2", scope=account, role_ids={BLOB_OWNER})


def test_flex_plans_only_in_regions_that_offer_flex(clients: Clients) -> None:
    offered = {r.name for r in clients.web.list_geo_regions(sku="FlexConsumption")}
    assert "East US 2" in offered and "West India" not in offered
    assert len(offered) == 32  # Microsoft's Flex quickstart's region list (sandbox/arm/names.py)
    assert "West India" in {r.name for r in clients.web.list_geo_regions()}
    with pytest.raises(HttpResponseError) as caught:
        clients.web.app_service_plans.begin_create_or_update(GROUP, "plan", {**flex_plan(), "location": "westindia"})
    assert caught.value.status_code == 400
    assert "not available in location 'westindia'" in caught.value.response.json()["Message"]


def test_global_names_are_checked_across_customers(arm: ArmStandIn, clients: Clients) -> None:
    arm.platform.hold_name("site", "twin-held-000001")
    site = clients.web.check_name_availability({"name": "twin-held-000001", "type": "Site"})
    assert (site.name_available, str(getattr(site.reason, "value", site.reason))) == (False, "AlreadyExists")
    assert clients.web.check_name_availability({"name": "twin-free-000001", "type": "Site"}).name_available
    check = clients.storage.storage_accounts.check_name_availability
    taken = check({"name": "sttwinflex0001", "type": "Microsoft.Storage/storageAccounts"})  # ours, still taken
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    invalid = check({"name": "Not-Valid", "type": "Microsoft.Storage/storageAccounts"})
    assert (invalid.name_available, invalid.reason) == (False, "AccountNameInvalid")
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan", flex_plan()).result()
    with pytest.raises(HttpResponseError) as caught:
        clients.web.web_apps.begin_create_or_update(GROUP, "twin-held-000001", flex_site(plan.id)).result()
    assert caught.value.status_code == 409


def test_plan_and_site_puts_may_answer_202_with_azure_async_operation(tick: Tick) -> None:
    with ArmStandIn(web_puts="async", latency={"sites": 30.0, "server_farms": 5.0}, clock=tick) as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
        plan_answer = raw(
            arm, "PUT",
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Web/serverfarms/p1?api-version=2025-05-01",
            json={"location": "eastus2", "sku": {"name": "Y1", "tier": "Dynamic"}, "properties": {"reserved": True}},
        )  # fmt: skip
        assert plan_answer.status_code == 202 and plan_answer.json()["name"] == "p1"
        status_url = plan_answer.headers["Azure-AsyncOperation"]
        assert plan_answer.headers["Retry-After"] == "5"
        assert raw(arm, "GET", status_url.removeprefix(arm.base_url)).json() == {"status": "InProgress"}
        tick.now += 5
        assert raw(arm, "GET", status_url.removeprefix(arm.base_url)).json() == {"status": "Succeeded"}
        assert arm.imposed_latency == {GROUP.lower(): 5.0}


def test_the_sdk_follows_the_async_shape_to_the_finished_site() -> None:
    with ArmStandIn(web_puts="async") as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
        plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "p1", flex_plan()).result()
        clients.storage.storage_accounts.begin_create(GROUP, "sttwinflex0001", storage_body()).result()
        site = clients.web.web_apps.begin_create_or_update(GROUP, "twin-a-000001", flex_site(plan.id)).result()
        assert site.identity.principal_id and site.properties.default_host_name == "twin-a-000001.azurewebsites.net"
        statuses = [
            (r.route, r.status) for r in arm.requests if r.route in ("sites.create_or_update", "operations.get")
        ]
        assert ("sites.create_or_update", 202) in statuses and ("operations.get", 200) in statuses


def test_trigger_sync_on_a_flex_app_without_code_fails(arm: ArmStandIn, clients: Clients) -> None:
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan", flex_plan()).result()
    clients.web.web_apps.begin_create_or_update(GROUP, "twin-a-000001", flex_site(plan.id)).result()
    path = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Web/sites/twin-a-000001"
    answer = raw(arm, "POST", path + "/syncfunctiontriggers?api-version=2025-05-01")
    assert answer.status_code == 400
    assert answer.json()["Message"] == "Encountered an error (BadRequest) from host runtime."


def test_one_deploy_wire_and_a_brainstem_without_code(arm: ArmStandIn, clients: Clients, tick: Tick) -> None:
    plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan", flex_plan()).result()
    site = clients.web.web_apps.begin_create_or_update(GROUP, "twin-a-000001", flex_site(plan.id)).result()
    scm = ScmSites(arm.platform).start()
    hosts = BrainstemHosts(platform=arm.platform, clock=tick).start()
    try:
        base = scm.url_template.format(app_name="twin-a-000001")
        twin = hosts.url_template.format(app_name="twin-a-000001")
        assert requests.get(twin, timeout=5).status_code == 200  # the landing page needs no code
        assert requests.get(twin + "api/health", timeout=5).status_code == 404
        package = brainstem_package("r1")
        assert requests.post(base + "/api/publish", data=package, timeout=5).status_code == 401
        auth = {"Authorization": f"Bearer {ARM_TOKEN}"}
        assert requests.post(scm.url_template.format(app_name="nope") + "/api/publish", data=package, headers=auth,
                             timeout=5).status_code == 404  # fmt: skip
        started = requests.post(base + "/api/publish?RemoteBuild=true", data=package, headers=auth, timeout=5)
        assert started.status_code == 202 and isinstance(started.json(), str)
        # No grant for the app's identity on its storage yet: the deployment fails with Storage's 403.
        failed = requests.get(started.headers["Location"], headers=auth, timeout=5).json()
        assert (failed["status"], failed["complete"]) == (3, True) and "403" in failed["status_text"]
        role = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_OWNER}"
        account = clients.storage.storage_accounts.get_properties(GROUP, "sttwinflex0001").id
        clients.authorization.role_assignments.create(
            account, "6f2d1c0e-0000-4000-8000-000000000003",
            {"properties": {"roleDefinitionId": role, "principalId": site.identity.principal_id,
                            "principalType": "ServicePrincipal"}},
        )  # fmt: skip
        tick.now += 60
        again = requests.post(base + "/api/publish", data=package, headers=auth, timeout=5).json()
        done = requests.get(f"{base}/api/deployments/{again}", headers=auth, timeout=5).json()
        assert (done["status"], done["complete"], done["active"]) == (4, True, True)
        assert requests.get(twin + "api/health", timeout=5).json() == {"status": "ok", "deploy_ref": "r1"}
    finally:
        scm.stop()
        hosts.stop()
