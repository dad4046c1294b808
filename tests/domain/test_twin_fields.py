"""The twin's fields, declared once: the row's, the job's and the registry's shapes derive from them.

The job's JSON is what Durable keeps in every history; an input recorded by an earlier version must load
and serialize back to the same JSON, or histories already running could not replay.
"""

from __future__ import annotations

import json
from dataclasses import fields

from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.twin import Twin
from controlplane.domain.twin_fields import Stored, TwinFields, names_where, shared_fields
from controlplane.registry.entities import from_entity, owner_entity, row_entity

# An update's input exactly as the code before the shared declaration wrote it (every field set).
RECORDED_UPDATE = (
    '{"job_id": "77777777777777777777777777777777", "cloud_id": "twin-kody-e89834", "name": "kody", '
    '"owner": "github:kody", "region": "eastus2", "runtime_target": "azure-flex-py312", "deploy_ref": "v2", '
    '"subscription_id": "00000000-0000-0000-0000-000000000001", "policy": {"first_retry_seconds": 5, '
    '"max_attempts": 3, "readiness_timeout_seconds": 600, "probe_interval_seconds": 15, "teardown_poll_seconds": 15, '
    '"teardown_timeout_seconds": 600, "publish_timeout_seconds": 900.0, "operation_poll_seconds": 5.0, '
    '"deployment_poll_seconds": 5.0}, "previous_job_id": null, "previous_deploy_ref": "v1", "app_settings": '
    '{"DB": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db)"}, "previous_app_settings": {}, '
    '"arm_lane": "bulk", "arm_grant": null, "event_sinks": ["eventgrid", "callback"], "callback_url": '
    '"https://hooks.example.com/twinstack", "delete_at": null, "repair": true}'
)
ROW = Twin(
    cloud_id="twin-kody-e89834", name="kody", owner="github:kody", region="eastus2", runtime_target="azure-flex-py312",
    deploy_ref="v1", status=Status.UPDATING, job_id="7" * 32, created_at="2026-12-07T10:00:00.000000Z",
    last_seen="2026-12-07T10:00:00.000000Z", url="https://twin-kody-e89834.azurewebsites.net/",
    subscription_id="sub", previous_deploy_ref="v0", target_deploy_ref="v2", app_settings={"A": "@Microsoft.KeyVault(x)"},
    target_app_settings={}, callback_url="https://hooks.example.com/twinstack", error={"step": "s"},
    hold={"reason": "r"}, delete_at="2026-12-08T10:00:00.000000Z", drift=["tags"], slots=("a", "b"),
)  # fmt: skip


def test_a_recorded_job_input_loads_and_serializes_back_to_the_same_json() -> None:
    recorded = json.loads(RECORDED_UPDATE)
    job = TwinJob.from_input(recorded)
    assert job.to_input() == recorded
    assert json.dumps(job.to_input(), sort_keys=True) == json.dumps(recorded, sort_keys=True)
    assert job.event_sinks == ("eventgrid", "callback") and job.policy.max_attempts == 3


def test_the_row_and_the_job_share_the_twins_fields_with_one_type_each() -> None:
    shared = {each.name: each.type for each in fields(TwinFields)}
    assert {each.name: each.type for each in fields(Twin) if each.name in shared} == shared
    assert {each.name: each.type for each in fields(TwinJob) if each.name in shared} == shared
    assert set(shared_fields(ROW)) == set(shared)


def test_every_field_of_the_row_is_stored_and_read_back() -> None:
    for entity in (row_entity(ROW), owner_entity(ROW)):
        assert set(entity) - {"PartitionKey", "RowKey"} == {each.name for each in fields(Twin)}
        assert from_entity(entity) == ROW
    for name in names_where(Twin, stored=Stored.AS_JSON):
        assert isinstance(row_entity(ROW)[name], str)  # JSON text: Table Storage holds no dicts or lists


def test_unset_fields_are_not_stored_and_read_back_as_unset() -> None:
    bare = Twin(
        cloud_id=ROW.cloud_id, name=ROW.name, owner=ROW.owner, region=ROW.region, runtime_target=ROW.runtime_target,
        deploy_ref=ROW.deploy_ref, status=Status.ACTIVE, job_id=ROW.job_id, created_at=ROW.created_at,
        last_seen=ROW.last_seen,
    )  # fmt: skip
    entity = row_entity(bare)
    assert "slots" not in entity and "app_settings" not in entity and "callback_url" not in entity
    assert from_entity(entity) == bare
