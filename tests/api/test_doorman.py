"""Authentication and owner-scoped authorization at every route, with real tokens from a loopback IdP."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator

import pytest

from controlplane.auth import hash_api_key
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import ROUTES, Api
from tests.api.identity_provider import AUDIENCE, ISSUER, OPERATOR_ROLE, IdentityProvider

OPERATOR_KEY = "operator-key-for-doorman-tests-0123456789"
QUOTA = 2


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.close()


@pytest.fixture
def doorman(
    make_rig: Callable[..., ControlPlaneRig], idp: IdentityProvider, caplog: pytest.LogCaptureFixture
) -> Iterator[Api]:
    caplog.set_level(logging.DEBUG)
    rig = make_rig(
        operator_key=OPERATOR_KEY,
        settings={"CP_AUTH": idp.auth_setting(hash_api_key(OPERATOR_KEY)), "CP_OWNER_QUOTA": str(QUOTA)},
    )
    yield Api(rig)
    # Nothing a caller presented may reach a log line.
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert OPERATOR_KEY not in logs and "eyJ" not in logs


@pytest.fixture
def alice(doorman: Api, idp: IdentityProvider) -> Api:
    return doorman.as_caller(idp.bearer("alice"))


@pytest.fixture
def bob(doorman: Api, idp: IdentityProvider) -> Api:
    return doorman.as_caller(idp.bearer("bob"))


def path_for(pattern: str) -> str:
    return (
        pattern.replace("(?P<id>[^/]+)", "twin-kody-e89834")
        .replace("(?P<cloud_id>[^/]+)", "twin-kody-e89834")
        .replace("(?P<rollout_id>[^/]+)", "0" * 32)
        .replace("(?P<action>[^/]+)", "pause")
        .replace("(?P<job_id>[^/]+)", "0" * 32)
    )


@pytest.mark.parametrize(("method", "pattern"), [(m, p) for m, p, name, _ in ROUTES if name != "openapi"])
def test_every_route_refuses_a_caller_without_credentials(doorman: Api, method: str, pattern: str) -> None:
    anonymous = doorman.as_caller({})
    answer = anonymous.request(method, path_for(pattern), json_body={"name": "kody"} if method == "POST" else None)
    assert answer.status == 401
    assert answer.headers["www-authenticate"].startswith('Bearer realm="twinstack"')


def test_the_openapi_document_is_public(doorman: Api) -> None:
    assert doorman.as_caller({}).request("GET", "/api/cp/openapi.yaml").status == 200


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        (lambda idp: idp.bearer("alice", exp=int(time.time()) - 3600), "token expired"),
        (lambda idp: idp.bearer("alice", nbf=int(time.time()) + 3600), "not yet valid"),
        (lambda idp: idp.bearer("alice", aud="api://someone-else"), "audience"),
        (lambda idp: idp.bearer("alice", iss="https://evil.example/"), "issuer"),
        (lambda idp: {"Authorization": "Bearer " + _unsigned("alice")}, "algorithm"),
        (lambda idp: {"Authorization": "Bearer " + _tampered(idp.token("alice"))}, "signature"),
        (lambda idp: {"Authorization": "Basic YWxpY2U6cGFzcw=="}, "scheme"),
        (lambda idp: {"x-api-key": "not-the-operator-key"}, "api key"),
    ],
    ids=["expired", "not-yet-valid", "wrong-aud", "wrong-iss", "alg-none", "tampered", "basic", "bad-api-key"],
)
def test_bad_credentials_are_401_with_a_reason(doorman: Api, idp: IdentityProvider, headers, error: str) -> None:  # type: ignore[no-untyped-def]
    answer = doorman.as_caller(headers(idp)).list()
    assert answer.status == 401
    assert error in answer.json["detail"].lower() or error in answer.headers["www-authenticate"].lower()


def _unsigned(sub: str) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 60}
    return part({"alg": "none", "typ": "JWT", "kid": "k1"}) + "." + part(claims) + "."


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_an_owner_creates_for_itself_and_only_itself(alice: Api) -> None:
    created = alice.post({"name": "kody"})  # owner taken from the token
    assert created.status == 202
    assert alice.get("twin-kody-e89834").json["owner"] == "github:alice"
    other = alice.post({"name": "molly", "owner": "github:bob"})
    assert other.status == 403
    alice.wait(created.json["job_id"])


def test_owners_cannot_see_list_wait_on_wake_or_delete_each_other(alice: Api, bob: Api, doorman: Api) -> None:
    job = alice.post({"name": "kody"}).json["job_id"]
    alice.wait(job)
    cloud_id = "twin-kody-e89834"

    assert bob.get(cloud_id).status == 404  # not 403: bob does not learn that kody exists
    assert bob.get(job).status == 404  # nor wait on alice's job
    assert bob.delete(cloud_id).status == 404
    assert bob.request("POST", f"/api/cp/brainstems/{cloud_id}/wake").status == 404
    assert bob.list().json["items"] == []
    assert bob.list(owner="github:alice").status == 403
    assert bob.request("GET", "/api/cp/health").status == 403  # fleet stats are for operators

    assert alice.get(cloud_id).status == 200 and alice.get(job).status == 200
    assert [r["cloud_id"] for r in alice.list().json["items"]] == [cloud_id]
    assert doorman.get(cloud_id).status == 200  # the operator sees everyone's
    assert doorman.list(owner="github:alice").json["items"][0]["cloud_id"] == cloud_id
    alice.wait(alice.delete(cloud_id).json["job_id"])
    assert alice.get(cloud_id).json["status"] == "deleted"


def test_an_operator_role_in_the_token_grants_operator(doorman: Api, idp: IdentityProvider, alice: Api) -> None:
    alice.wait(alice.post({"name": "kody"}).json["job_id"])
    operator = doorman.as_caller(idp.bearer("carol", roles=[OPERATOR_ROLE]))
    assert operator.get("twin-kody-e89834").status == 200
    assert operator.request("GET", "/api/cp/health").status == 200
    assert operator.post({"name": "molly"}).status == 400  # an operator must say for whom


def test_quota_edges_and_deleted_twins_do_not_count(alice: Api, doorman: Api) -> None:
    first = alice.post({"name": "one"})
    assert first.status == 202  # limit - 1
    second = alice.post({"name": "two"})
    assert second.status == 202  # limit
    third = alice.post({"name": "three"})
    assert third.status == 429  # limit + 1
    assert (third.json["limit"], third.json["count"]) == (QUOTA, QUOTA)
    assert alice.get("twin-three-" + _hash("three")).status == 404  # nothing half-created

    alice.wait(first.json["job_id"])
    alice.wait(alice.delete("twin-one-" + _hash("one")).json["job_id"])
    assert alice.post({"name": "three"}).status == 202  # the deleted twin gave its place back

    exempt = doorman.post({"name": "four", "owner": "github:alice"})
    assert exempt.status == 202  # operators are exempt by default (CP_OPERATORS_QUOTA_EXEMPT)
    for job in (second.json["job_id"], exempt.json["job_id"]):
        alice.wait(job) if alice.get(job).status == 200 else doorman.wait(job)


def _hash(name: str) -> str:
    from controlplane.domain.naming import hash6

    return hash6(name)


def test_wake_probes_an_active_twin_once(alice: Api) -> None:
    created = alice.post({"name": "kody"}).json
    early = alice.request("POST", "/api/cp/brainstems/twin-kody-e89834/wake")
    if early.status == 409:
        assert "only an active brainstem can be woken" in early.json["detail"]
    alice.wait(created["job_id"])
    hits_before = alice.rig.brainstems.hits.get("twin-kody-e89834", 0)  # type: ignore[union-attr]
    woke = alice.request("POST", "/api/cp/brainstems/twin-kody-e89834/wake")
    assert woke.status == 200
    body = woke.json
    assert body["awake"] is True and body["status"] == 200 and body["elapsed_ms"] >= 0
    assert body["url"].endswith("/twin-kody-e89834/")
    assert alice.rig.brainstems.hits["twin-kody-e89834"] == hits_before + 1  # type: ignore[union-attr]
