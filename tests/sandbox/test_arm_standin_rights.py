"""The stand-ins enforce the caller's rights as Azure does: the ABAC condition on role assignment
writes, a principal type that is never guessed, and each service's token audience (ARM, scm, Event
Grid). Sources are in sandbox/arm/rights.py, sandbox/arm/authorization.py and sandbox/tokens.py."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from sandbox import tokens
from sandbox.arm import ArmStandIn
from sandbox.arm.rights import OWNER
from sandbox.events.receiver import EventReceiver
from sandbox.packages import brainstem_package
from sandbox.scm import ScmSites
from tests.sandbox.test_arm_standin import GROUP, SUBSCRIPTION, Clients, clients_for, raw, storage_body
from tests.sandbox.test_arm_standin_flex import flex_plan, flex_site

ROLES = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions"
BLOB_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def _account(clients: Clients) -> str:
    clients.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
    return clients.storage.storage_accounts.begin_create(GROUP, "sttwin0001", storage_body()).result().id


def _grant(role: str, principal: str, principal_type: str | None) -> dict:
    properties = {"roleDefinitionId": f"{ROLES}/{role}", "principalId": principal}
    if principal_type is not None:
        properties["principalType"] = principal_type
    return {"properties": properties}


@pytest.mark.parametrize(
    ("role", "principal_type"),
    [
        pytest.param(CONTRIBUTOR, "ServicePrincipal", id="a-role-outside-the-condition"),
        pytest.param(OWNER_ROLE, "ServicePrincipal", id="owner"),
        pytest.param(BLOB_OWNER, "User", id="a-principal-type-outside-the-condition"),
        pytest.param(BLOB_OWNER, "Group", id="a-group"),
        pytest.param(BLOB_OWNER, None, id="no-principal-type-in-the-request"),
    ],
)
def test_an_assignment_outside_the_pools_abac_condition_is_refused_403(role: str, principal_type: str | None) -> None:
    with ArmStandIn() as arm:  # the default caller holds exactly infra's pool grants
        clients = clients_for(arm)
        account = _account(clients)
        name = str(uuid.uuid4())
        with pytest.raises(HttpResponseError) as caught:
            clients.authorization.role_assignments.create(
                account, name, _grant(role, str(uuid.uuid4()), principal_type)
            )
        assert caught.value.status_code == 403 and caught.value.error.code == "AuthorizationFailed"
        assert "ABAC condition not fulfilled" in caught.value.error.message
        assert f"{account}/providers/Microsoft.Authorization/roleAssignments/{name}" in caught.value.error.message
        assert not [d for d in arm.resources.values() if d["type"] == "Microsoft.Authorization/roleAssignments"]
        # Within the condition the same caller may grant.
        made = clients.authorization.role_assignments.create(
            account, name, _grant(BLOB_OWNER, str(uuid.uuid4()), "ServicePrincipal")
        )
        assert made.principal_type == "ServicePrincipal"


def test_a_missing_principal_type_is_looked_up_in_the_directory_never_guessed() -> None:
    with ArmStandIn(caller_rights=OWNER) as arm:  # unconstrained, so the lookup itself is what is tested
        clients = clients_for(arm)
        account = _account(clients)
        plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
        site = clients.web.web_apps.begin_create_or_update(GROUP, "twin-flex-000001", flex_site(plan.id)).result()
        known = clients.authorization.role_assignments.create(
            account, str(uuid.uuid4()), _grant(BLOB_OWNER, site.identity.principal_id, None)
        )
        assert known.principal_type == "ServicePrincipal"  # a managed identity, as the directory says
        with pytest.raises(HttpResponseError) as caught:
            clients.authorization.role_assignments.create(
                account, str(uuid.uuid4()), _grant(BLOB_OWNER, str(uuid.uuid4()), None)
            )
        assert caught.value.status_code == 400 and caught.value.error.code == "PrincipalNotFound"
        assert "set the role assignment principalType property" in caught.value.error.message
        stored = [d for d in arm.resources.values() if d["type"] == "Microsoft.Authorization/roleAssignments"]
        assert [d["properties"]["principalType"] for d in stored] == ["ServicePrincipal"]


@pytest.mark.parametrize(
    ("token", "code"),
    [
        pytest.param(tokens.mint("https://eventgrid.azure.net"), "InvalidAuthenticationTokenAudience", id="eventgrid"),
        pytest.param(tokens.mint("https://storage.azure.com"), "InvalidAuthenticationTokenAudience", id="storage"),
        pytest.param(tokens.mint("https://management.azure.com.evil"), "InvalidAuthenticationTokenAudience", id="near"),
        pytest.param("not-a-jwt", "InvalidAuthenticationToken", id="opaque"),
    ],
)
def test_arm_refuses_a_token_for_another_audience(token: str, code: str) -> None:
    with ArmStandIn() as arm:
        answer = requests.get(
            f"{arm.base_url}/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2025-04-01",
            headers={"Authorization": f"Bearer {token}"},
            verify=arm.ca_path,
            timeout=10,
        )
        assert answer.status_code == 401 and answer.json()["error"]["code"] == code
        assert (
            raw(arm, "GET", f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2025-04-01").status_code
            == 404
        )
        for audience in sorted(tokens.ARM_AUDIENCES):  # every alias ARM lists is accepted
            accepted = requests.get(
                f"{arm.base_url}/subscriptions/{SUBSCRIPTION}/resourcegroups/{GROUP}?api-version=2025-04-01",
                headers={"Authorization": f"Bearer {tokens.mint(audience)}"},
                verify=arm.ca_path,
                timeout=10,
            )
            assert accepted.status_code == 404, audience


def test_the_scm_site_takes_the_arm_token_and_no_other() -> None:
    with ArmStandIn() as arm:
        clients = clients_for(arm)
        clients.resources.resource_groups.create_or_update(GROUP, {"location": "eastus2"})
        plan = clients.web.app_service_plans.begin_create_or_update(GROUP, "plan-flex", flex_plan()).result()
        clients.web.web_apps.begin_create_or_update(GROUP, "twin-flex-000001", flex_site(plan.id)).result()
        scm = ScmSites(arm.platform).start()
        try:
            publish = scm.url_template.format(app_name="twin-flex-000001") + "/api/publish"
            package = brainstem_package("r1")
            for wrong in (tokens.mint("https://eventgrid.azure.net"), "opaque"):
                refused = requests.post(publish, data=package, headers={"Authorization": f"Bearer {wrong}"}, timeout=5)
                assert refused.status_code == 401
                assert refused.content == b""  # the status is all a Microsoft source gives (sandbox/scm.py)
            arm_token = tokens.mint("https://management.azure.com")
            started = requests.post(publish, data=package, headers={"Authorization": f"Bearer {arm_token}"}, timeout=5)
            assert started.status_code == 202
        finally:
            scm.stop()


def test_the_event_grid_topic_takes_only_a_token_for_event_grid() -> None:
    event = {"specversion": "1.0", "id": "1", "source": "/twinstack/test", "type": "twinstack.test"}
    with EventReceiver() as receiver:

        def publish(token: str) -> requests.Response:
            return requests.post(
                receiver.topic_endpoint + "?api-version=2018-01-01",
                data=json.dumps([event]),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/cloudevents-batch+json; charset=utf-8",
                },
                verify=receiver.ca_path,
                timeout=5,
            )

        for wrong in (tokens.mint("https://management.azure.com"), "opaque"):
            refused = publish(wrong)
            assert refused.status_code == 401
            # Learn, "Publish events to Azure Event Grid custom topics using access keys", Response.
            error = refused.json()["error"]
            assert error["code"] == "Unauthorized" and [d["code"] for d in error["details"]] == ["Unauthorized"]
        assert publish(tokens.mint("https://eventgrid.azure.net")).status_code == 200
