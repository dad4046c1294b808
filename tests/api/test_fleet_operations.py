"""PATCH one twin and the rollout routes over HTTP: who may do what, every answer in the contract."""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.domain.naming import twin_names
from controlplane.domain.rollouts import MAX_PARALLELISM
from tests.api.conftest import Api
from tests.api.test_doorman import alice, bob, doorman, idp  # noqa: F401 - fixtures, shared with the doorman tests

KODY = "twin-kody-e89834"


def patch(api: Api, cloud_id: str, body: Any) -> Any:
    return api.request("PATCH", f"/api/cp/brainstems/{cloud_id}", json_body=body)


def test_an_owner_updates_its_own_twin_and_gets_a_job_to_wait_for(alice: Api, bob: Api) -> None:
    created = alice.post({"name": "kody"})
    alice.wait(created.json["job_id"])
    assert patch(bob, KODY, {"deploy_ref": "v2"}).status == 404  # another owner's twin does not exist for bob
    accepted = patch(alice, KODY, {"deploy_ref": "v2"})
    assert accepted.status == 202 and accepted.json["status"] == "updating"
    job = alice.wait(accepted.json["job_id"])
    assert (job["kind"], job["runtime_status"]) == ("update", "Completed")
    row = alice.get(KODY).json
    assert (row["status"], row["deploy_ref"], row["previous_deploy_ref"]) == ("active", "v2", "main")
    assert alice.list(deploy_ref="v2").json["items"][0]["cloud_id"] == KODY
    assert alice.list(deploy_ref="main").json["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "deploy_ref"),
        ({"deploy_ref": ""}, "deploy_ref"),
        ({"deploy_ref": "../etc"}, "deploy_ref"),
        ({"deploy_ref": 7}, "deploy_ref"),
        ({"refresh_settings": "yes"}, "refresh_settings"),  # a string is not true: named, not ignored (issue 26)
        ({"deploy_ref": "v2", "owner": "github:x"}, "owner"),
    ],
)
def test_an_update_body_names_the_field_to_fix(alice: Api, body: Any, field: str) -> None:
    alice.wait(alice.post({"name": "kody"}).json["job_id"])
    answer = patch(alice, KODY, body)
    assert answer.status == 400 and answer.json["field"] == field


def test_only_an_active_twin_is_updated(doorman: Api) -> None:
    created = doorman.post({"name": "kody", "owner": "github:a"})
    assert patch(doorman, KODY, {"deploy_ref": "v2"}).status in (202, 409)  # 409 while still provisioning
    doorman.wait(created.json["job_id"])
    doorman.wait(doorman.delete(KODY).json["job_id"])
    gone = patch(doorman, KODY, {"deploy_ref": "v2"})
    assert gone.status == 409 and gone.json["type"].endswith("/not-active")  # a deleted twin is not updated
    assert patch(doorman, twin_names("nobody").cloud_id, {"deploy_ref": "v2"}).status == 404


def test_rollouts_are_for_operators(alice: Api) -> None:
    assert alice.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2"}).status == 403
    assert alice.request("GET", "/api/cp/rollouts").status == 403


def test_an_operator_rolls_the_fleet_and_reads_its_progress(doorman: Api) -> None:
    for name in ("kody", "molly"):
        doorman.wait(doorman.post({"name": name, "owner": "github:a"}).json["job_id"])
    started = doorman.request(
        "POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2", "waves": {"canary": 1, "parallelism": 1}}
    )
    assert started.status == 202 and started.headers["location"] == f"/api/cp/rollouts/{started.json['rollout_id']}"
    rollout_id = started.json["rollout_id"]
    assert doorman.rig.driver is not None
    assert doorman.rig.driver.wait(rollout_id, timeout=60).output["status"] == "completed"
    record = doorman.request("GET", f"/api/cp/rollouts/{rollout_id}").json
    assert record["status"] == "completed" and [w["succeeded"] for w in record["waves"]] == [1, 1]
    assert record["failures"] == []
    assert doorman.health()["by_deploy_ref"] == {"v2": 2}
    assert [r["rollout_id"] for r in doorman.request("GET", "/api/cp/rollouts").json["items"]] == [rollout_id]
    ended = doorman.request("POST", f"/api/cp/rollouts/{rollout_id}/pause")
    assert ended.status == 409  # it has ended: nothing to pause
    assert (ended.json["title"], ended.json["type"].rsplit("/", 1)[1]) == (
        "Rollout is not running",
        "rollout-not-running",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "deploy_ref"),
        ({"deploy_ref": "v2", "selector": {"colour": "red"}}, "selector"),
        ({"deploy_ref": "v2", "selector": {"region": "EAST US"}}, "selector.region"),
        ({"deploy_ref": "v2", "waves": {"canary": 0}}, "waves.canary"),
        ({"deploy_ref": "v2", "waves": {"canary": 1.5}}, "waves.canary"),
        ({"deploy_ref": "v2", "waves": {"parallelism": 10_000}}, "waves.parallelism"),
        ({"deploy_ref": "v2", "waves": {"parallelism": MAX_PARALLELISM + 1}}, "waves.parallelism"),
        ({"deploy_ref": "v2", "waves": {"max_failure_ratio": 2}}, "waves.max_failure_ratio"),
        ({"deploy_ref": "v2", "waves": {"growth": True}}, "waves.growth"),
        ({"deploy_ref": "v2", "waves": []}, "waves"),
        ({"deploy_ref": "v2", "waves": None}, "waves"),
        ({"deploy_ref": "v2", "selector": None}, "selector"),
        ({"deploy_ref": "v2", "selector": {"region": None}}, "selector.region"),
        ({"deploy_ref": "v2", "selector": {"owner": None}}, "owner"),
    ],
)
def test_a_rollout_body_names_the_field_to_fix(doorman: Api, body: Any, field: str) -> None:
    answer = doorman.request("POST", "/api/cp/rollouts", json_body=body)
    assert answer.status == 400 and answer.json["field"] == field


def test_unknown_rollouts_and_actions_are_problems(doorman: Api) -> None:
    assert doorman.request("GET", "/api/cp/rollouts/nope").status == 404
    assert doorman.request("GET", f"/api/cp/rollouts/{'0' * 32}").status == 404
    assert doorman.request("POST", f"/api/cp/rollouts/{'0' * 32}/pause").status == 404
    started = doorman.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2"}).json
    assert doorman.request("POST", f"/api/cp/rollouts/{started['rollout_id']}/explode").status == 400


def test_a_whole_number_written_as_a_float_is_a_whole_number(doorman: Api) -> None:
    # JSON Schema counts 2.0 as an integer, so openapi.yaml's `type: integer` admits it: so does the service.
    body = {"deploy_ref": "v2", "waves": {"canary": 2.0, "parallelism": 3.0}}
    started = doorman.request("POST", "/api/cp/rollouts", json_body=body)
    assert started.status == 202 and started.json["spec"]["waves"]["canary"] == 2, started.body


def test_a_twin_setting_must_be_a_key_vault_reference_never_a_secret(
    alice: Api, caplog: pytest.LogCaptureFixture
) -> None:
    alice.wait(alice.post({"name": "kody"}).json["job_id"])
    refused = patch(alice, KODY, {"app_settings": {"OPENAI_API_KEY": "sk-live-SECRET"}})
    assert refused.status == 400 and refused.json["field"] == "app_settings.OPENAI_API_KEY"
    assert "sk-live-SECRET" not in refused.body.decode() and "sk-live-SECRET" not in caplog.text
    reference = "@Microsoft.KeyVault(VaultName=kv-twins;SecretName=openai)"
    accepted = patch(alice, KODY, {"app_settings": {"OPENAI_API_KEY": reference}})
    assert accepted.status == 202
    alice.wait(accepted.json["job_id"])
    assert alice.get(KODY).json["app_settings"] == {"OPENAI_API_KEY": reference}
