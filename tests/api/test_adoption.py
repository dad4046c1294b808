"""Adopting the twins provision-twin-lite.sh made: through the API, against the ARM stand-in, reads only."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from controlplane.settings import get_settings
from tests.api.conftest import Api
from tests.api.test_doorman import alice, bob, doorman, idp  # noqa: F401 - fixtures, shared with the doorman tests
from tests.reconcile.script_twin import SCRIPT_OWNER, make_script_twin


def pool_subscription() -> str:
    return get_settings().subscription_pool[0].subscription_id


def adopt(api: Api, body: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    """POST an adoption, then follow its Location until it has ended; its report."""
    accepted = api.request("POST", "/api/cp/adoptions", json_body=body)
    assert accepted.status == 202, accepted.body
    assert accepted.json["links"]["self"] == accepted.headers["location"] and accepted.headers["retry-after"]
    path, deadline = urlsplit(accepted.headers["location"]).path, time.monotonic() + timeout
    while True:
        answer = api.request("GET", path)
        assert answer.status == (200 if answer.json["done"] else 202), answer.body
        if answer.json["done"]:
            assert answer.json["runtime_status"] == "Completed", answer.body
            report: dict[str, Any] = answer.json["report"]
            return report
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_script_made_twins_are_adopted_with_the_scripts_names_and_only_read(api: Api) -> None:
    kody = make_script_twin("kody", subscription_id=pool_subscription())
    molly = make_script_twin("molly", subscription_id=pool_subscription(), owner=None)  # no owner tag
    api.rig.arm.clear_requests()

    dry = adopt(api, {"dry_run": True})
    assert [c["cloud_id"] for c in dry["would_adopt"]] == [kody.cloud_id, molly.cloud_id]
    assert dry["adopted"] == [] and not default_registry().exists(kody.cloud_id)  # a dry run writes nothing

    report = adopt(api, {"owner": "github:ops"})
    assert sorted(a["cloud_id"] for a in report["adopted"]) == [kody.cloud_id, molly.cloud_id]
    row = default_registry().get(kody.cloud_id)
    assert (row.name, row.cloud_id, row.status, row.owner) == ("kody", "twin-kody-e89834", Status.ACTIVE, SCRIPT_OWNER)
    assert (row.runtime_target, row.deploy_ref, row.region) == ("azure-consumption-py311", "main", "eastus2")
    assert row.url == get_settings().brainstem_url(twin_names("kody")) and row.subscription_id == pool_subscription()
    assert default_registry().get(molly.cloud_id).owner == "github:ops"  # the operator's owner where no tag says
    # Adoption never modifies a twin's resources: every ARM request was a read.
    assert {r.method for r in api.rig.arm.requests} == {"GET"}
    health = api.health()
    assert (health["active"], health["total"]) == (2, 2)
    assert default_registry().capacity.members(f"owner:{SCRIPT_OWNER}") == {kody.cloud_id}

    again = adopt(api, {"owner": "github:ops"})  # adopting twice changes nothing
    assert again["adopted"] == [] and default_registry().get(kody.cloud_id).job_id == row.job_id


def test_a_twin_that_does_not_answer_is_adopted_errored_with_why(api: Api) -> None:
    ada = make_script_twin("ada", subscription_id=pool_subscription())
    assert api.rig.brainstems is not None
    api.rig.brainstems.boot_failures[ada.app_name] = 1_000  # its host answers 503

    report = adopt(api, {})

    [adopted] = report["adopted"]
    assert adopted["status"] == "errored" and adopted["error"]["code"] == "NotReady"
    row = default_registry().get(ada.cloud_id)
    assert row.status == Status.ERRORED and "503" in (row.error or {})["message"]


def test_groups_that_are_not_script_twins_are_skipped_with_why(api: Api) -> None:
    sub = pool_subscription()
    clients_tags = {"stack": "TwinStack"}
    from controlplane.arm.clients import arm_clients

    groups = arm_clients(sub).resources.resource_groups
    groups.create_or_update("rg-shared", {"location": "eastus2", "tags": clients_tags})  # not rg-twin-<name>
    groups.create_or_update("rg-twin-zed", {"location": "eastus2", "tags": clients_tags})  # no site in it
    make_script_twin("node", subscription_id=sub, runtime="Node|20")  # a runtime no target matches
    groups.create_or_update("rg-twin-liar", {"location": "eastus2", "tags": {**clients_tags, "twin": "other"}})

    report = adopt(api, {"owner": "github:ops"})

    assert report["adopted"] == []
    why = {s.get("cloud_id") or s["resource_group"]: s["why"] for s in report["skipped"]}
    assert why["rg-shared"].startswith("not named rg-twin-") and why["rg-twin-liar"].startswith("not named")
    assert why[twin_names("zed").cloud_id].startswith("no Function App")
    assert "Node|20" in why[twin_names("node").cloud_id]


def test_a_twin_without_an_owner_tag_waits_for_an_owner(api: Api) -> None:
    lone = make_script_twin("lone", subscription_id=pool_subscription(), owner=None)

    report = adopt(api, {})

    assert report["adopted"] == [] and report["skipped"] == [
        {"cloud_id": lone.cloud_id, "skipped": "no valid owner tag and no owner given"}
    ]
    assert not default_registry().exists(lone.cloud_id)


def test_only_operators_adopt_and_bodies_are_checked(doorman: Api, alice: Api) -> None:  # noqa: F811
    api = doorman
    assert alice.request("POST", "/api/cp/adoptions", json_body={}).status == 403
    assert alice.request("GET", f"/api/cp/adoptions/{'0' * 32}").status == 403
    for body, field in (
        ({"dry_run": "yes"}, "dry_run"), ({"owner": "a/b"}, "owner"), ({"subscription_id": "elsewhere"}, "subscription_id"),
        ({"name": "kody"}, "name"), ({"owner": None}, "owner"), ({"subscription_id": None}, "subscription_id"),
    ):  # fmt: skip
        answer = api.request("POST", "/api/cp/adoptions", json_body=body)
        assert answer.status == 400 and field in answer.json["detail"], answer.body
    assert api.request("GET", f"/api/cp/adoptions/{'0' * 32}").status == 404
    assert api.request("GET", "/api/cp/adoptions/not-a-job").status == 404
    # The body is optional (openapi.yaml): none at all is every default, a dry run of nothing but a real adoption.
    bare = api.request("POST", "/api/cp/adoptions")
    assert bare.status == 202 and bare.json["dry_run"] is False, bare.body


def test_adoption_locks_the_adopted_groups_only_when_asked(api: Api) -> None:
    from controlplane.arm import locks
    from controlplane.arm.clients import arm_clients

    kody = make_script_twin("kody", subscription_id=pool_subscription())
    molly = make_script_twin("molly", subscription_id=pool_subscription())
    clients = arm_clients(pool_subscription())
    assert adopt(api, {"lock": True, "subscription_id": pool_subscription()})["adopted"]
    for twin in (kody, molly):
        assert locks.delete_lock_exists(clients, twin_names(twin.name))
    assert api.request("POST", "/api/cp/adoptions", json_body={"lock": "yes"}).json["field"] == "lock"


def test_adoption_without_lock_leaves_the_groups_unlocked(api: Api) -> None:
    from controlplane.arm import locks
    from controlplane.arm.clients import arm_clients

    kody = make_script_twin("kody", subscription_id=pool_subscription())
    adopt(api, {})
    assert not locks.delete_lock_exists(arm_clients(pool_subscription()), twin_names(kody.name))
