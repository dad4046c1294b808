"""Every error class answers problem+json naming what to fix, and loses nothing; paging by token."""

from __future__ import annotations

import uuid

import pytest

from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.twin import Twin, utc_now
from controlplane.registry import default_registry
from tests.api.conftest import Api


def assert_nothing_written(api: Api) -> None:
    assert api.health()["total"] == 0
    assert api.rig.arm.requests == []


@pytest.mark.parametrize(
    ("body", "headers", "status", "field", "says"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "body", "not valid JSON"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "body", "must be a JSON object"),
        (b'{"name": "kody"}', {"Content-Type": "text/plain"}, 415, "content-type", "Content-Type: application/json"),
        (b'{"name": "kody"}', {}, 415, "content-type", "application/json"),
        (b'{"name": "kody", "owner": "github:a", "' + b"x" * 20_000 + b'": 1}', {"Content-Type": "application/json"}, 413, None, "limit is 16384"),
        (b'{"name": "kody", "owner": "github:a", "colour": "red"}', {"Content-Type": "application/json"}, 400, "colour", "unknown field 'colour'"),
        (b'{"owner": "github:a"}', {"Content-Type": "application/json"}, 400, "name", "'name' is required"),
        (b'{"name": "kody"}', {"Content-Type": "application/json"}, 400, "owner", "owner is required when an operator creates"),
        (b'{"name": "Kody", "owner": "github:a"}', {"Content-Type": "application/json"}, 400, "name", "lowercase letters a-z and digits 0-9"),
        (b'{"name": "abcdefghijklm", "owner": "github:a"}', {"Content-Type": "application/json"}, 400, "name", "the maximum is 12"),
        (b'{"name": 42, "owner": "github:a"}', {"Content-Type": "application/json"}, 400, "name", "must be a string"),
        (b'{"name": "kody", "owner": "git hub/a"}', {"Content-Type": "application/json"}, 400, "owner", "owner must be 1-128 characters"),
        (b'{"name": "kody", "owner": "github:a", "region": "marsnorth"}', {"Content-Type": "application/json"}, 400, "region", "region must be one of"),
        (b'{"name": "kody", "owner": "github:a", "runtime_target": "aws-lambda"}', {"Content-Type": "application/json"}, 400, "runtime_target", "runtime_target must be one of: azure-consumption-py311"),
        (b'{"name": "kody", "owner": "github:a", "deploy_ref": "../../etc"}', {"Content-Type": "application/json"}, 400, "deploy_ref", "deploy_ref must be"),
        (b'{"name": "kody", "owner": "github:a", "region": 5}', {"Content-Type": "application/json"}, 400, "region", "region"),
        (b'{"name": "kody", "owner": "github:a", "region": null}', {"Content-Type": "application/json"}, 400, "region", "leave it out"),
        (b'{"name": "kody", "owner": null}', {"Content-Type": "application/json"}, 400, "owner", "leave it out"),
    ],
    ids=[
        "bad-json", "not-object", "text-plain", "no-content-type", "oversize", "unknown-field", "missing-name",
        "missing-owner", "uppercase-name", "long-name", "name-not-string", "bad-owner", "bad-region", "bad-target",
        "bad-deploy-ref", "region-not-string", "region-null", "owner-null",
    ],
)  # fmt: skip
def test_bad_create_requests(
    api: Api, body: bytes, headers: dict[str, str], status: int, field: str | None, says: str
) -> None:
    answer = api.request("POST", "/api/cp/brainstems", body=body, headers=headers)
    assert answer.status == status, answer.body
    problem = answer.json
    assert problem["type"].startswith("https://twinstack.dev/problems/")
    assert says in problem["detail"]
    if field:
        assert problem["field"] == field
    assert_nothing_written(api)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/cp/brainstems/kody", 404),
        ("GET", "/api/cp/brainstems/twin-kody-000000", 404),  # right shape, wrong hash: not one of ours
        ("GET", "/api/cp/brainstems/twin-kody-e89834", 404),  # ours, but no such row
        ("GET", "/api/cp/brainstems/" + "a" * 32, 404),  # a job id nobody started
        ("DELETE", "/api/cp/brainstems/" + "a" * 32, 404),  # DELETE takes a cloud_id only
        ("DELETE", "/api/cp/brainstems/twin-kody-e89834", 404),
    ],
)
def test_unknown_or_malformed_ids_are_404(api: Api, method: str, path: str, status: int) -> None:
    answer = api.request(method, path)
    assert answer.status == status and answer.json["title"] == "Not found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"next": "not-a-token"}, "next"),
        ({"colour": "red"}, "colour"),
        ({"owner": "bad owner"}, "owner"),
        ({"runtime_target": "aws-lambda"}, "runtime_target"),
        # Empty values: the host drops them from the query it hands the worker; they are still refused.
        ({"status": "", "stale": ""}, "status"),
        ({"stale": ""}, "stale"),
        ({"owner": ""}, "owner"),
        ({"runtime_target": ""}, "runtime_target"),
        ({"deploy_ref": ""}, "deploy_ref"),
        ({"limit": ""}, "limit"),
        ({"next": ""}, "next"),
    ],
)
def test_bad_list_parameters(api: Api, params: dict[str, str], field: str) -> None:
    answer = api.list(**params)
    assert answer.status == 400 and answer.json["field"] == field


def seed(count: int, owner_of) -> None:  # type: ignore[no-untyped-def]
    registry = default_registry()
    now = utc_now()
    for i in range(count):
        names = twin_names(f"t{i:03d}")
        registry.create(Twin(
            cloud_id=names.cloud_id, name=names.name, owner=owner_of(i), region="eastus2",
            runtime_target="azure-consumption-py311", deploy_ref="main",
            status=Status.PROVISIONING, job_id=uuid.uuid4().hex, created_at=now, last_seen=now,
        ))  # fmt: skip
        if i % 3 == 0:
            registry.transition(names.cloud_id, Status.ERRORED)


def collect(api: Api, **params: str) -> tuple[list[str], int]:
    ids, pages, token = [], 0, None
    while True:
        answer = api.list(**params, **({"next": token} if token else {}))
        assert answer.status == 200, answer.body
        pages += 1
        ids += [row["cloud_id"] for row in answer.json["items"]]
        token = answer.json["next"]
        if token is None:
            return ids, pages


def test_paging_across_pages_with_filters(api: Api) -> None:
    seed(45, lambda i: "github:alice" if i % 2 else "github:bob")
    everything, pages = collect(api, limit="10")
    assert pages == 5 and len(everything) == 45 and everything == sorted(everything)

    alice, pages = collect(api, owner="github:alice", limit="7")
    assert len(alice) == 22 and pages == 4

    errored_bob, pages = collect(api, owner="github:bob", status="errored", limit="3")
    expected = sorted(twin_names(f"t{i:03d}").cloud_id for i in range(45) if i % 2 == 0 and i % 3 == 0)
    assert errored_bob == expected and pages == 3

    assert len(collect(api, runtime_target="azure-consumption-py311", limit="20")[0]) == 45

    default_page = api.list().json
    assert len(default_page["items"]) == 45 and default_page["next"] is None  # default limit 100


def test_a_token_cannot_cross_into_another_owners_listing(api: Api) -> None:
    seed(6, lambda i: "github:alice" if i < 3 else "github:bob")
    bobs_token = api.list(owner="github:bob", limit="1").json["next"]
    answer = api.list(owner="github:alice", next=bobs_token)
    assert answer.status == 400 and answer.json["field"] == "next"


def test_misconfiguration_names_the_setting_without_its_value(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.rig import reset_control_plane_caches

    monkeypatch.setenv("CP_SUBSCRIPTION_ID", "sk-THIS-IS-NOT-A-GUID")
    reset_control_plane_caches()
    answer = api.request("GET", "/api/cp/health")
    assert answer.status == 503
    assert "CP_SUBSCRIPTION_ID" in answer.json["detail"] and "sk-THIS" not in answer.body.decode()


def test_an_unreachable_registry_is_503_without_internals(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.rig import reset_control_plane_caches

    monkeypatch.setenv(
        "AzureWebJobsStorage",
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;",
    )
    reset_control_plane_caches()
    answer = api.request("GET", "/api/cp/health")
    assert answer.status in (500, 503)
    text = answer.body.decode()
    assert "a2V5" not in text and "127.0.0.1:9" not in text and "Traceback" not in text
