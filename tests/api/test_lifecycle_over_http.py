"""Every route's success path, end to end over HTTP: POST -> job -> active -> GET -> DELETE -> deleted."""

from __future__ import annotations

import requests

from controlplane.domain.lifecycle import Status
from controlplane.registry import default_registry
from sandbox.arm import Fault
from tests.api.conftest import Api

KODY = "twin-kody-e89834"


def test_create_poll_get_delete(api: Api) -> None:
    created = api.post({"name": "kody", "owner": "github:wildfeuer05"})
    assert created.status == 202, created.body
    body = created.json
    job_id = body["job_id"]
    assert body["cloud_id"] == KODY and body["status"] == "provisioning"
    # Our own status monitor, never Durable's management URLs (each would carry the system key).
    assert created.headers["location"] == body["links"]["job"] == f"/api/cp/brainstems/{job_id}"
    assert created.headers["retry-after"] == "10"
    assert set(body) == {"job_id", "cloud_id", "status", "links"}
    assert "code=" not in created.body.decode() and "webhooks" not in created.body.decode()
    assert body["links"] == {"job": f"/api/cp/brainstems/{job_id}", "brainstem": f"/api/cp/brainstems/{KODY}"}

    listed = api.list().json["items"]  # the row exists the moment POST answers
    assert [r["cloud_id"] for r in listed] == [KODY]

    job = api.wait(job_id)
    assert (job["kind"], job["runtime_status"], job["step"], job["cloud_id"]) == (
        "provision",
        "Completed",
        "active",
        KODY,
    )
    assert job["output"]["url"].endswith("/twin-kody-e89834/") and job["error"] is None
    assert job["created_at"] and job["last_updated_at"]

    row = api.get(KODY).json
    assert row["status"] == "active" and row["url"] == job["output"]["url"] and row["owner"] == "github:wildfeuer05"
    # Its root proves nothing (no landing page); its readiness route answers with the code it runs.
    assert requests.get(row["url"], timeout=5).status_code == 404
    ready = requests.get(row["url"].rstrip("/") + "/api/health", timeout=5)
    assert ready.status_code == 200 and ready.json()["deploy_ref"] == row["deploy_ref"]

    deleting = api.delete(KODY)
    assert deleting.status == 202 and deleting.json["status"] == "deleting"
    teardown = api.wait(deleting.json["job_id"])
    assert (teardown["kind"], teardown["runtime_status"], teardown["output"]) == (
        "teardown", "Completed", {"status": "deleted", "cloud_id": KODY},
    )  # fmt: skip
    assert api.get(KODY).json["status"] == "deleted"

    gone = api.delete(KODY)
    assert gone.status == 410 and gone.json["cloud_id"] == KODY


def test_defaults_fill_region_target_and_deploy_ref(api: Api) -> None:
    created = api.post({"name": "kody", "owner": "github:a"})
    row = api.get(KODY).json
    assert (row["region"], row["runtime_target"], row["deploy_ref"]) == ("eastus2", "azure-consumption-py311", "main")
    api.wait(created.json["job_id"])


def test_explicit_fields_are_used(api: Api) -> None:
    created = api.post({"name": "kody", "owner": "github:a", "region": "westeurope", "deploy_ref": "v1.2.3",
                        "runtime_target": "azure-consumption-py311"})  # fmt: skip
    assert created.status == 202
    api.wait(created.json["job_id"])
    row = api.get(KODY).json
    assert (row["region"], row["deploy_ref"], row["status"]) == ("westeurope", "v1.2.3", "active")


def test_health_counts_stay_exact_through_create_fail_delete(api: Api) -> None:
    assert api.health() == {
        "total": 0, "provisioning": 0, "active": 0, "updating": 0, "errored": 0, "deleting": 0, "deleted": 0,
        "missing": 0, "by_runtime_target": {}, "by_deploy_ref": {}, "registry": "ok",
        # Nothing reconciled or swept yet (issue 15): no orphans, no stale twins, no reports.
        "stale": 0, "orphans": 0, "drifted": 0, "heartbeat": {},
        "reconcile": {"orphans": 0, "orphan_names": [], "drifted": 0, "drifted_names": [], "subscriptions": {}},
    }  # fmt: skip
    api.wait(api.post({"name": "kody", "owner": "github:a"}).json["job_id"])
    api.rig.arm.inject(
        Fault(route="storage_accounts.create", kind="error", status=403, code="AuthorizationFailed", times=None)
    )
    failed = api.wait(api.post({"name": "molly", "owner": "github:a"}).json["job_id"])
    assert failed["runtime_status"] == "Failed" and "storage_account failed: AuthorizationFailed" in failed["error"]
    health = api.health()
    assert (health["total"], health["active"], health["errored"], health["provisioning"]) == (2, 1, 1, 0)
    assert health["by_runtime_target"] == {"azure-consumption-py311": 2}
    assert health["by_deploy_ref"] == {"main": 2}

    api.rig.arm.clear_faults()
    api.wait(api.delete(KODY).json["job_id"])
    api.wait(api.delete("twin-molly-4181ee").json["job_id"])
    health = api.health()
    assert (health["total"], health["active"], health["errored"], health["deleted"]) == (2, 0, 0, 2)
    assert health["by_runtime_target"] == {} and health["by_deploy_ref"] == {}


def test_same_name_while_live_is_409_naming_the_existing_job(api: Api) -> None:
    first = api.post({"name": "kody", "owner": "github:a"}).json
    again = api.post({"name": "kody", "owner": "github:a"})
    assert again.status == 409
    assert (again.json["cloud_id"], again.json["job_id"]) == (KODY, first["job_id"])
    api.wait(first["job_id"])
    active_again = api.post({"name": "kody", "owner": "github:a"})
    assert active_again.status == 409 and active_again.json["current_status"] == "active"


def test_another_owner_cannot_take_a_live_name_nor_learn_its_job(api: Api) -> None:
    first = api.post({"name": "kody", "owner": "github:a"}).json
    taken = api.post({"name": "kody", "owner": "github:b"})
    assert taken.status == 409 and "job_id" not in taken.json and first["job_id"] not in taken.json["detail"]
    api.wait(first["job_id"])


def test_errored_twin_is_reprovisioned_by_post(api: Api) -> None:
    api.rig.arm.inject(Fault(route="sites.create_or_update", kind="error", status=400, code="BadRequest", times=1))
    failed = api.wait(api.post({"name": "kody", "owner": "github:a"}).json["job_id"])
    assert failed["runtime_status"] == "Failed"
    assert api.get(KODY).json["error"]["step"] == "function_app"

    retried = api.post({"name": "kody", "owner": "github:a"})
    assert retried.status == 202 and retried.json["job_id"] != failed["job_id"]
    assert api.wait(retried.json["job_id"])["runtime_status"] == "Completed"
    row = api.get(KODY).json
    assert row["status"] == "active" and row["error"] is None
    assert len(api.rig.arm.resource_groups("00000000-0000-4000-8000-000000000001")) == 1


def test_deleted_twin_is_provisioned_anew_even_by_another_owner(api: Api) -> None:
    api.wait(api.post({"name": "kody", "owner": "github:a"}).json["job_id"])
    api.wait(api.delete(KODY).json["job_id"])
    anew = api.post({"name": "kody", "owner": "github:b"})
    assert anew.status == 202
    api.wait(anew.json["job_id"])
    row = api.get(KODY).json
    assert (row["status"], row["owner"]) == ("active", "github:b")
    assert [r["cloud_id"] for r in api.list(owner="github:a").json["items"]] == []


def test_delete_while_deleting_answers_with_the_running_job(api: Api) -> None:
    api.wait(api.post({"name": "kody", "owner": "github:a"}).json["job_id"])
    first = api.delete(KODY).json
    second = api.delete(KODY)
    # Either the teardown was still running when the second DELETE read the row (the same job), or it had
    # already finished (gone). The row's status read *after* the second answer cannot tell which: the
    # teardown may finish in between, so the answer itself is what is checked.
    if second.status == 202:
        assert second.json["job_id"] == first["job_id"]
    else:
        assert second.status == 410 and default_registry().get(KODY).status == Status.DELETED
    api.wait(first["job_id"])


def test_a_row_whose_job_never_started_is_started_by_the_next_post(api: Api) -> None:
    """POST writes the row before starting the job; if the start was lost, the next POST recovers it."""
    import uuid

    from controlplane.domain.twin import Twin, utc_now

    now = utc_now()
    lost = uuid.uuid4().hex
    default_registry().create(Twin(
        cloud_id=KODY, name="kody", owner="github:a", region="eastus2", runtime_target="azure-consumption-py311",
        deploy_ref="main", status=Status.PROVISIONING, job_id=lost, created_at=now, last_seen=now,
    ))  # fmt: skip
    recovered = api.post({"name": "kody", "owner": "github:a"})
    assert recovered.status == 202 and recovered.json["job_id"] == lost
    assert api.wait(lost)["runtime_status"] == "Completed"


def test_openapi_document_is_served(api: Api) -> None:
    answer = api.request("GET", "/api/cp/openapi.yaml")
    assert answer.status == 200 and answer.body.startswith(b"openapi: 3.1")
