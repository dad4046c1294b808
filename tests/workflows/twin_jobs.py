"""Helpers for the workflow tests: accept a twin or a teardown as the HTTP layer would, then run it."""

from __future__ import annotations

import json
import logging
import uuid

from controlplane.domain.durable_names import Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.twin import Twin, utc_now
from controlplane.registry import META_SUFFIX, default_registry
from controlplane.service.teardown import claim_for_teardown
from controlplane.service.updates import claim_for_update
from controlplane.settings import get_settings
from controlplane.workflows.job_inputs import job_for
from sandbox.durable import OrchestrationResult
from sandbox.rig import ControlPlaneRig


def accept_twin(
    name: str,
    owner: str = "github:alice",
    *,
    runtime_target: str = "azure-consumption-py311",
    callback_url: str | None = None,
) -> dict:
    """Write the provisioning row as POST does, and return the orchestration input."""
    names = twin_names(name)
    now = utc_now()
    settings = get_settings()
    row = Twin(
        cloud_id=names.cloud_id, name=name, owner=owner, region="eastus2", runtime_target=runtime_target,
        deploy_ref="abc123", status=Status.PROVISIONING, job_id=uuid.uuid4().hex, created_at=now, last_seen=now,
        subscription_id=settings.subscription_id, callback_url=callback_url,
    )  # fmt: skip
    default_registry().create(row)
    return job_for(row, settings).to_input()


def provision(
    rig: ControlPlaneRig, name: str, owner: str = "github:alice", *, runtime_target: str = "azure-consumption-py311",
    callback_url: str | None = None,
) -> OrchestrationResult:  # fmt: skip
    job = accept_twin(name, owner, runtime_target=runtime_target, callback_url=callback_url)
    assert rig.driver is not None
    return rig.driver.run(Orchestration.PROVISION, job, instance_id=job["job_id"])


def begin_update(cloud_id: str, deploy_ref: str | None) -> dict:
    """Claim the twin for an update as PATCH does, and return the update orchestration's input."""
    job, _ = claim_for_update(cloud_id, deploy_ref, default_registry(), get_settings())
    return job.to_input()


def update(rig: ControlPlaneRig, cloud_id: str, deploy_ref: str | None) -> OrchestrationResult:
    job = begin_update(cloud_id, deploy_ref)
    assert rig.driver is not None
    return rig.driver.run(Orchestration.UPDATE, job, instance_id=job["job_id"])


def begin_teardown(cloud_id: str) -> dict:
    """Fence the row as DELETE does, and return the teardown orchestration's input."""
    job, _ = claim_for_teardown(cloud_id, default_registry(), get_settings())
    return job.to_input()


def teardown(rig: ControlPlaneRig, cloud_id: str) -> OrchestrationResult:
    job = begin_teardown(cloud_id)
    assert rig.driver is not None
    return rig.driver.run(Orchestration.TEARDOWN, job, instance_id=job["job_id"])


def assert_never_recorded(secrets: list[str], result: OrchestrationResult, logs: list[logging.LogRecord]) -> None:
    """None of ``secrets`` is in the orchestration's history/output/status, any registry entity or any log line."""
    from azure.data.tables import TableServiceClient

    settings = get_settings()
    service = TableServiceClient.from_connection_string(settings.storage_connection)
    entities = [
        dict(entity)
        for table in (settings.registry_table, settings.registry_table + META_SUFFIX)
        for entity in service.get_table_client(table).list_entities()
    ]
    recorded = {
        "history": json.dumps(result.history) + json.dumps(result.output) + json.dumps(result.custom_status),
        "registry": json.dumps(entities, default=str),
        "logs": "\n".join(record.getMessage() for record in logs),
    }
    assert entities, "the registry should hold the twin's row"
    for secret in secrets:
        for where, text in recorded.items():
            assert secret not in text, f"a secret reached the {where}"
