"""Holds and the gated rollout routes over HTTP: who may do what, every answer in the contract."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.domain.naming import twin_names
from tests.api.conftest import Api
from tests.api.test_doorman import alice, bob, doorman, idp  # noqa: F401 - fixtures, shared with the doorman tests

KODY = "twin-kody-e89834"


def hold(api: Api, cloud_id: str, body: Any) -> Any:
    return api.request("PUT", f"/api/cp/brainstems/{cloud_id}/hold", json_body=body)


def test_an_owner_holds_and_lifts_its_own_twin_and_no_one_elses(alice: Api, bob: Api) -> None:
    alice.wait(alice.post({"name": "kody"}).json["job_id"])
    assert hold(bob, KODY, {"reason": "mine now"}).status == 404  # another owner's twin does not exist for bob
    assert bob.request("DELETE", f"/api/cp/brainstems/{KODY}/hold").status == 404
    held = hold(alice, KODY, {"reason": "customer demo", "until": "2099-01-01T00:00:00Z"})
    assert held.status == 200 and held.json["hold"]["until"].startswith("2099-01-01T00:00:00")
    assert held.json["hold"]["by"].startswith("bearer:")
    assert alice.get(KODY).json["hold"]["reason"] == "customer demo"
    refused = alice.request("PATCH", f"/api/cp/brainstems/{KODY}", json_body={"deploy_ref": "v2"})
    assert refused.status == 409 and refused.json["type"].endswith("/held") and refused.json["hold"]["reason"]
    assert alice.request("DELETE", f"/api/cp/brainstems/{KODY}/hold").json["hold"] is None
    assert alice.request("DELETE", f"/api/cp/brainstems/{KODY}/hold").status == 200  # lifting twice is fine


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "x", "until": "tomorrow"}, "until"),
        ({"reason": "x", "until": "2000-01-01T00:00:00Z"}, "until"),
        ({"reason": "x", "until": 5}, "until"),
        ({"reason": "x", "owner": "github:x"}, "owner"),
    ],
    ids=["no-reason", "empty", "too-long", "not-a-time", "past", "number", "unknown-field"],
)
def test_a_hold_body_names_the_field_to_fix(doorman: Api, body: Any, field: str) -> None:
    doorman.wait(doorman.post({"name": "kody", "owner": "github:a"}).json["job_id"])
    answer = hold(doorman, KODY, body)
    assert answer.status == 400 and answer.json["field"] == field


def test_holding_a_twin_that_does_not_exist_is_a_404(doorman: Api) -> None:
    assert hold(doorman, twin_names("nobody").cloud_id, {"reason": "x"}).status == 404


def test_only_operators_plan_or_approve_rollouts(alice: Api, doorman: Api) -> None:
    plan = {"deploy_ref": "v2", "dry_run": True}
    assert alice.request("POST", "/api/cp/rollouts", json_body=plan).status == 403
    assert doorman.request("POST", "/api/cp/rollouts", json_body=plan).status == 200
    assert alice.request("POST", f"/api/cp/rollouts/{'0' * 32}/approve").status == 403
    assert doorman.request("POST", f"/api/cp/rollouts/{'0' * 32}/approve").status == 404
