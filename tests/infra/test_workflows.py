"""The GitHub workflows a fork gets: CI runs the README's test command and the infra lint; the deploy
signs in with OpenID Connect and keeps no secret in the repository."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((WORKFLOWS / name).read_text())  # type: ignore[no-any-return]


def _runs(workflow: dict) -> list[str]:  # type: ignore[type-arg]
    return [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]


def test_ci_runs_the_test_command_and_the_infra_lint_on_pull_requests() -> None:
    ci = _load("ci.yml")
    assert "pull_request" in ci[True]  # YAML reads the key `on` as True
    runs = _runs(ci)
    assert "make test" in runs and "make iac-lint" in runs
    python = [
        s["with"]["python-version"]
        for j in ci["jobs"].values()
        for s in j["steps"]
        if "setup-python" in s.get("uses", "")
    ]
    assert python == ["3.13"]


def test_the_deploy_uses_a_federated_credential_and_no_secret() -> None:
    deploy = _load("deploy.yml")
    assert deploy["permissions"]["id-token"] == "write"
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "secrets." not in text and "client-secret" not in text
    runs = " ".join(_runs(deploy))
    assert "--federated-credential-provider github" in runs and "azd up" in runs
