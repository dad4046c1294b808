"""Soft delete, the bulk-delete guard and the audit trail, over HTTP (every answer checked against openapi.yaml)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from controlplane.auth import hash_api_key
from sandbox.arm import Fault, Gate
from sandbox.durable import HeldClock
from sandbox.rig import SUBSCRIPTION_ID, ControlPlaneRig
from tests.api.conftest import Api
from tests.api.identity_provider import IdentityProvider
from tests.api.test_doorman import idp  # noqa: F401 - fixture

KODY, MOLLY = "twin-kody-e89834", "twin-molly-4181ee"
OPERATOR_KEY = "operator-key-for-day-two-tests"
GRACE = 86_400


@pytest.fixture
def clock() -> HeldClock:
    return HeldClock()


@pytest.fixture
def operator(make_rig: Callable[..., ControlPlaneRig], idp: IdentityProvider, clock: HeldClock) -> Iterator[Api]:  # noqa: F811
    rig = make_rig(
        clock=clock,
        operator_key=OPERATOR_KEY,
        settings={
            "CP_AUTH": idp.auth_setting(hash_api_key(OPERATOR_KEY)),
            "CP_DELETE_GRACE_SECONDS": str(GRACE),
            "CP_DELETE_RATE_LIMIT": "2",
        },
    )
    yield Api(rig)


@pytest.fixture
def alice(operator: Api, idp: IdentityProvider) -> Api:  # noqa: F811
    return operator.as_caller(idp.bearer("alice"))


@pytest.fixture
def bob(operator: Api, idp: IdentityProvider) -> Api:  # noqa: F811
    return operator.as_caller(idp.bearer("bob"))


def audit(api: Api, **params: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        answer = api.request("GET", "/api/cp/audit", params=params)
        assert answer.status == 200, answer.body
        records.extend(answer.json["items"])
        if not answer.json["next"]:
            return records
        params = {**params, "next": answer.json["next"]}


def created(api: Api, name: str) -> str:
    answer = api.post({"name": name})
    assert answer.status == 202, answer.body
    api.wait(answer.json["job_id"])
    return str(answer.json["cloud_id"])


def test_a_delete_within_the_grace_period_is_restored_and_the_twin_never_stopped(
    alice: Api, operator: Api, clock: HeldClock
) -> None:
    created(alice, "kody")
    row = alice.get(KODY).json
    ready = row["url"].rstrip("/") + "/api/health"

    deleting = alice.delete(KODY)
    assert deleting.status == 202, deleting.body
    pending = alice.get(KODY).json
    assert pending["pending_delete"] is True and pending["status"] == "active"
    delete_at = dt.datetime.fromisoformat(pending["delete_at"].replace("Z", "+00:00"))
    assert delete_at - clock.now() > dt.timedelta(seconds=GRACE) - clock.hold_beyond  # a day away, not now
    assert [r["cloud_id"] for r in alice.list().json["items"] if r["pending_delete"]] == [KODY]
    assert alice.get(deleting.json["job_id"]).status == 202  # the teardown waits on its durable timer
    assert clock.held == 1
    assert requests.get(ready, timeout=5).status_code == 200  # still running

    restored = alice.request("POST", f"/api/cp/brainstems/{KODY}/restore")
    assert restored.status == 200, restored.body
    assert restored.json["pending_delete"] is False and restored.json["status"] == "active"
    clock.advance(dt.timedelta(seconds=GRACE + 60))  # the grace period would have ended
    assert alice.get(KODY).json["status"] == "active"
    assert requests.get(ready, timeout=5).status_code == 200
    rig = operator.rig
    assert not [r for r in rig.arm.requests if r.method == "DELETE"]  # nothing in Azure was ever touched
    assert row["name"] and "rg-twin-kody" in " ".join(rig.arm.resource_groups(SUBSCRIPTION_ID))
    # Restoring again changes nothing and records nothing.
    assert alice.request("POST", f"/api/cp/brainstems/{KODY}/restore").status == 200
    assert [r["action"] for r in audit(alice, cloud_id=KODY)] == ["create", "delete", "restore"]


def test_a_pending_delete_goes_ahead_when_its_grace_period_ends(alice: Api, clock: HeldClock) -> None:
    created(alice, "kody")
    deleting = alice.delete(KODY)
    assert alice.delete(KODY).json["job_id"] == deleting.json["job_id"]  # a second DELETE joins the first
    patched = alice.request("PATCH", f"/api/cp/brainstems/{KODY}", json_body={"deploy_ref": "v2"})
    assert patched.status == 409  # an update would cancel the delete silently: restore first
    clock.advance(dt.timedelta(seconds=GRACE + 60))
    teardown = alice.wait(deleting.json["job_id"])
    assert teardown["output"] == {"status": "deleted", "cloud_id": KODY}
    assert alice.get(KODY).json["status"] == "deleted"
    gone = alice.request("POST", f"/api/cp/brainstems/{KODY}/restore")
    assert gone.status == 409


def test_a_bulk_delete_is_refused_without_an_operators_confirmation(alice: Api, operator: Api) -> None:
    names = ["kody", "molly", "nina", "otto"]
    twins = [created(alice, name) for name in names]
    assert [alice.delete(cloud_id).status for cloud_id in twins[:2]] == [202, 202]
    refused = alice.delete(twins[2])
    assert refused.status == 429 and refused.json["limit"] == 2 and refused.json["count"] == 2
    assert alice.request("DELETE", f"/api/cp/brainstems/{twins[2]}", params={"confirm": "bulk"}).status == 429
    assert alice.get(twins[2]).json["pending_delete"] is False  # refused means untouched

    # The operator's own count is its own; past it, only a confirmed bulk delete goes through.
    assert [operator.delete(cloud_id).status for cloud_id in twins[2:]] == [202, 202]
    for cloud_id in twins[2:]:
        assert operator.request("POST", f"/api/cp/brainstems/{cloud_id}/restore").status == 200
    assert operator.delete(twins[2]).status == 429
    bad = operator.request("DELETE", f"/api/cp/brainstems/{twins[2]}", params={"confirm": "yes"})
    assert bad.status == 400 and bad.json["field"] == "confirm"
    assert operator.request("DELETE", f"/api/cp/brainstems/{twins[2]}", params={"confirm": "bulk"}).status == 202


def test_every_change_route_writes_exactly_one_audit_record(alice: Api, bob: Api, operator: Api) -> None:
    kody = alice.post({"name": "kody"})
    alice.wait(kody.json["job_id"])
    patched = alice.request("PATCH", f"/api/cp/brainstems/{KODY}", json_body={"deploy_ref": "v2"})
    alice.wait(patched.json["job_id"])
    deleted = alice.delete(KODY)
    restored = alice.request("POST", f"/api/cp/brainstems/{KODY}/restore")
    molly = operator.post({"name": "molly", "owner": bob_owner(bob)})
    operator.wait(molly.json["job_id"])
    gate = Gate()  # the rollout's first site PUT is held, so the rollout is surely running when paused
    operator.rig.arm.inject(Fault(route="sites.create_or_update", kind="hang", gate=gate, times=1))
    waves = {"canary": 1, "parallelism": 1}
    rollout = operator.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v3", "waves": waves})
    assert rollout.status == 202, rollout.body
    rollout_id = rollout.json["rollout_id"]
    assert gate.entered.wait(60)
    paused = operator.request("POST", f"/api/cp/rollouts/{rollout_id}/pause")
    assert paused.status == 200, paused.body
    gate.open()
    adopted = operator.request("POST", "/api/cp/adoptions", json_body={})
    dry = operator.request("POST", "/api/cp/adoptions", json_body={"dry_run": True})
    assert dry.status == 202

    answers = [kody, patched, deleted, restored, molly, rollout, paused, adopted]
    records = audit(operator)
    by_request = {r["request_id"]: r for r in records}
    # One each (and bobby's create, bob's own, in bob_owner); the dry run none.
    assert len(by_request) == len(records) == len(answers) + 1
    for answer, action in zip(answers, ["create", "update", "delete", "restore", "create", "rollout_start",
                                        "rollout_control", "adopt"], strict=True):  # fmt: skip
        record = by_request[answer.headers["x-request-id"]]
        assert record["action"] == action
    operator_origin = by_request[molly.headers["x-request-id"]]["principal"]
    assert operator_origin.startswith("operator(api-key: ") and OPERATOR_KEY not in str(records)
    assert by_request[kody.headers["x-request-id"]]["principal"] == alice.get(KODY).json["owner"]
    assert by_request[paused.headers["x-request-id"]]["detail"] == {"action": "pause"}

    # An owner reads its own twins' records, never another owner's nor the fleet's rollouts.
    mine = audit(alice)
    assert {r["target"] for r in mine} == {KODY} and len(mine) == 4
    assert audit(bob, cloud_id=KODY) == []
    assert {r["action"] for r in audit(bob)} == {"create"}  # molly's, made for bob by the operator
    assert audit(alice, principal=operator_origin) == []
    # Operators filter by twin, principal and time; pages chain by token.
    assert len(audit(operator, cloud_id=KODY, limit="1")) == 4
    assert {r["action"] for r in audit(operator, principal=operator_origin)} >= {"rollout_start", "adopt"}
    last = records[-1]["occurred_at"]
    assert all(r["occurred_at"] >= last for r in audit(operator, since=last))


def test_audit_records_outlive_the_twin(alice: Api, clock: HeldClock) -> None:
    created(alice, "kody")
    deleting = alice.delete(KODY)
    clock.advance(dt.timedelta(seconds=GRACE + 60))
    alice.wait(deleting.json["job_id"])
    assert [r["action"] for r in audit(alice, cloud_id=KODY)] == ["create", "delete"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"cloud_id": "nope"}, "cloud_id"), ({"since": "yesterday"}, "since"), ({"limit": "0"}, "limit"),
     ({"next": "garbage"}, "next"), ({"owner": "x"}, "owner"), ({"principal": "x" * 300}, "principal")],
)  # fmt: skip
def test_audit_queries_name_the_parameter_to_fix(operator: Api, params: dict[str, str], field: str) -> None:
    answer = operator.request("GET", "/api/cp/audit", params=params)
    assert answer.status == 400 and answer.json["field"] == field


def bob_owner(bob: Api) -> str:
    """Bob's owner id, as the doorman names him (an owner creates under its own id)."""
    answer = bob.post({"name": "bobby"})
    owner = bob.get(answer.json["cloud_id"]).json["owner"]
    bob.wait(answer.json["job_id"])
    return str(owner)


def test_a_hold_and_its_release_are_on_record(alice: Api) -> None:
    created(alice, "kody")
    held = alice.request("PUT", f"/api/cp/brainstems/{KODY}/hold", json_body={"reason": "quarter-end freeze"})
    assert held.status == 200, held.body
    lifted = alice.request("DELETE", f"/api/cp/brainstems/{KODY}/hold")
    assert lifted.status == 200, lifted.body
    by_request = {r["request_id"]: r for r in audit(alice, cloud_id=KODY)}
    hold = by_request[held.headers["x-request-id"]]
    assert hold["action"] == "hold" and hold["detail"] == {"reason": "quarter-end freeze", "until": ""}
    assert by_request[lifted.headers["x-request-id"]]["action"] == "release"
    assert [r["action"] for r in by_request.values()].count("hold") == 1
