"""A client generated from openapi.yaml by openapi-python-client (at test time, never checked in) drives a twin's life.

twinctl keeps its hand-written client; this proves the document is enough for someone else's tooling:
the generated models parse every answer (a model that cannot is a test failure, not a None), as an
owner with a bearer token: create -> wait -> get -> patch -> wait -> delete -> wait.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.contract.conftest import ContractSandbox

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "twinstack_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    where = tmp_path_factory.mktemp("generated")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff
    subprocess.run(
        [Path(sys.executable).parent / "openapi-python-client", "generate", "--path", str(ROOT / "openapi.yaml"),
         "--output-path", str(where / PACKAGE), "--meta", "none"],
        check=True, capture_output=True, text=True, env=env, cwd=where, timeout=120,
    )  # fmt: skip
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def parsed(response: Any, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.content)
    assert response.parsed is not None, response.content  # the generated model read the answer
    return response.parsed


def wait_for(package: ModuleType, client: Any, job_id: str) -> Any:
    get = module(package, "api.default.get_brainstem_or_job")
    job_model = module(package, "models").Job
    deadline = time.monotonic() + 120
    while True:
        response = get.sync_detailed(job_id, client=client)
        job = parsed(response, int(response.status_code))
        assert isinstance(job, job_model), job
        assert int(response.status_code) == (200 if job.done else 202)
        if job.done:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job.runtime_status}"
        time.sleep(0.2)


def test_every_named_request_body_is_a_typed_model(generated: ModuleType) -> None:
    # A shape a generator cannot type (a top-level anyOf, say) leaves its callers an untyped dict.
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    named = {
        media["schema"]["$ref"].rsplit("/", 1)[1]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in media.get("schema", {})
    }
    assert named and not [name for name in named if not hasattr(module(generated, "models"), name)]


def test_a_generated_client_drives_create_wait_get_patch_delete(
    generated: ModuleType, contract_sandbox: ContractSandbox
) -> None:
    models = module(generated, "models")
    api = "api.default."
    token = contract_sandbox.idp.token("genclient")
    client = generated.AuthenticatedClient(
        base_url=contract_sandbox.base_url, token=token, raise_on_unexpected_status=True
    )

    created = parsed(module(generated, api + "create_brainstem").sync_detailed(
        client=client, body=models.CreateRequest(name="genclient", deploy_ref="main")
    ), 202)  # fmt: skip
    assert isinstance(created, models.Accepted) and created.cloud_id.startswith("twin-genclient-")
    assert wait_for(generated, client, created.job_id).runtime_status == models.JobRuntimeStatus.COMPLETED

    get = module(generated, api + "get_brainstem_or_job")
    twin = parsed(get.sync_detailed(created.cloud_id, client=client), 200)
    assert isinstance(twin, models.Brainstem)
    assert (twin.status, twin.owner, twin.deploy_ref) == (models.Status.ACTIVE, "github:genclient", "main")

    updated = parsed(module(generated, api + "update_brainstem").sync_detailed(
        created.cloud_id, client=client, body=models.UpdateRequest(deploy_ref="v2")
    ), 202)  # fmt: skip
    assert wait_for(generated, client, updated.job_id).runtime_status == models.JobRuntimeStatus.COMPLETED
    twin = parsed(get.sync_detailed(created.cloud_id, client=client), 200)
    assert (twin.status, twin.deploy_ref, twin.previous_deploy_ref) == (models.Status.ACTIVE, "v2", "main")

    deleted = parsed(module(generated, api + "delete_brainstem").sync_detailed(created.cloud_id, client=client), 202)
    assert wait_for(generated, client, deleted.job_id).runtime_status == models.JobRuntimeStatus.COMPLETED
    assert parsed(get.sync_detailed(created.cloud_id, client=client), 200).status == models.Status.DELETED

    # A problem parses into the document's Problem model too: another owner's twin is not found.
    other = generated.AuthenticatedClient(base_url=contract_sandbox.base_url, token=contract_sandbox.idp.token("other"))
    problem = parsed(get.sync_detailed(created.cloud_id, client=other), 404)
    assert isinstance(problem, models.Problem) and problem.status == 404
