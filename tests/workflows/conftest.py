"""Fixtures for the workflow tests: the whole control plane on loopback, timers instant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from controlplane.brainstem import Brainstem, utc_now
from controlplane.lifecycle import Status
from controlplane.naming import twin_names
from controlplane.registry import default_registry
from controlplane.settings import get_settings
from http_api.service import job_for
from sandbox.durable import OrchestrationResult
from sandbox.rig import ControlPlaneRig, reset_control_plane_caches


@pytest.fixture
def rig(storage_connection: str, table_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ControlPlaneRig]:
    environ: dict[str, str] = {}
    running = ControlPlaneRig(storage_connection, table_name=table_name).start(environ)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    reset_control_plane_caches()
    try:
        yield running
    finally:
        running.stop()
        reset_control_plane_caches()


def accept_twin(name: str, owner: str = "github:alice") -> dict:
    """Write the provisioning row as POST does, and return the orchestration input."""
    names = twin_names(name)
    now = utc_now()
    settings = get_settings()
    row = Brainstem(
        cloud_id=names.cloud_id, name=name, owner=owner, region="eastus2", runtime_target="azure-consumption-py311",
        deploy_ref="abc123", status=Status.PROVISIONING, job_id=uuid.uuid4().hex, created_at=now, last_seen=now,
        subscription_id=settings.subscription_id,
    )  # fmt: skip
    default_registry().create(row)
    return job_for(row, settings).to_input()


def provision(rig: ControlPlaneRig, name: str, owner: str = "github:alice") -> OrchestrationResult:
    job = accept_twin(name, owner)
    assert rig.driver is not None
    return rig.driver.run("provision_brainstem", job, instance_id=job["job_id"])
