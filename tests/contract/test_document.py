"""openapi.yaml itself: a valid OpenAPI 3.1 document, served as it is, and saying what the service enforces."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from controlplane.domain.app_settings import MAX_SETTINGS
from controlplane.domain.rollouts import MAX_CANARY, MAX_PARALLELISM
from controlplane.registry import MAX_PAGE_SIZE
from tests.contract.conftest import ContractSandbox

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi.yaml"


def schemas() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(DOCUMENT.read_text())["components"]["schemas"]


def test_the_document_is_valid_openapi() -> None:
    spec, _ = read_from_filename(str(DOCUMENT))
    validate(spec)  # raises with the path of the first error


@pytest.mark.skipif(not (ROOT / "node_modules/.bin/redocly").exists(), reason="make setup installs Redocly CLI")
def test_redocly_finds_no_error() -> None:
    node = shutil.which("node")
    assert node, "Redocly CLI needs Node.js"
    lint = subprocess.run(
        [str(ROOT / "node_modules/.bin/redocly"), "lint", str(DOCUMENT), "--format=stylish"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_served_copy_is_the_document(contract_sandbox: ContractSandbox) -> None:
    served = requests.get(f"{contract_sandbox.base_url}/api/cp/openapi.yaml", timeout=10)  # public: no credential
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("application/yaml")
    assert served.content == DOCUMENT.read_bytes()


def test_the_documented_bounds_are_the_services() -> None:
    waves = schemas()["RolloutRequest"]["properties"]["waves"]["properties"]
    assert waves["parallelism"]["maximum"] == MAX_PARALLELISM
    assert waves["canary"]["maximum"] == MAX_CANARY
    assert schemas()["AppSettingChanges"]["maxProperties"] == MAX_SETTINGS
    listing = yaml.safe_load(DOCUMENT.read_text())["paths"]["/api/cp/brainstems"]["get"]["parameters"]
    assert next(p for p in listing if p["name"] == "limit")["schema"]["maximum"] == MAX_PAGE_SIZE


def test_links_lead_from_create_to_the_twin_and_from_a_rollout_to_its_controls() -> None:
    paths = yaml.safe_load(DOCUMENT.read_text())["paths"]
    created = paths["/api/cp/brainstems"]["post"]["responses"]["202"]["links"]
    assert set(created) == {"job", "brainstem", "update", "wake", "delete"}
    rollout = paths["/api/cp/rollouts"]["post"]["responses"]["202"]["links"]
    assert {link.get("operationId") for link in rollout.values()} >= {"controlRollout"}
