"""The GitHub workflows a fork gets: CI runs the README's test command and the infra lint; the deploy
signs in with OpenID Connect and keeps no secret in the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.infra.bicep import BicepFile
from tests.infra.deployment import (
    BASE_ENV,
    MAIN,
    AzdParameterError,
    app_settings,
    azd_parameters,
    azd_parameters_from,
    parameters_file,
)

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


def _deploy_env_with_no_repository_variables() -> dict[str, str]:
    # GitHub Actions expands a repository variable that is not defined to "" (docs: "Contexts", vars).
    env = _load("deploy.yml")["jobs"]["deploy"]["env"]
    return {name: "" if "vars." in str(value) else str(value) for name, value in env.items()}


def test_the_deploy_loads_its_parameters_with_every_optional_variable_left_empty() -> None:
    env = {**_deploy_env_with_no_repository_variables(), **BASE_ENV}
    assert env["CP_AUTH"] == "" and env["CP_SUBSCRIPTION_POOL"] == ""
    parameters = azd_parameters(env)
    # Empty means "not given": the Bicep defaults apply, as when the variable is unset.
    assert parameters == azd_parameters(BASE_ENV)
    assert "auth" not in parameters and "subscriptionPool" not in parameters
    app_settings(env)  # and the settings the app gets still load


def test_an_empty_object_variable_without_a_default_is_what_azd_refuses() -> None:
    # The failure the parameters file's ":-null" defaults exist for (bicep_provider.go, Path A).
    with pytest.raises(AzdParameterError, match="not valid JSON"):
        azd_parameters_from({"auth": {"value": "${CP_AUTH}"}}, {**BASE_ENV, "CP_AUTH": ""})


def test_a_given_json_variable_still_arrives() -> None:
    pool = [{"subscription_id": "00000000-0000-0000-0000-000000000001", "regions": ["eastus2"]}]
    parameters = azd_parameters({**BASE_ENV, "CP_SUBSCRIPTION_POOL": json.dumps(pool), "CP_AUTH": '{"issuers": []}'})
    assert parameters["subscriptionPool"] == pool and parameters["auth"] == {"issuers": []}


def test_every_array_or_object_parameter_defaults_to_null_when_its_variable_is_empty() -> None:
    main = BicepFile(MAIN)
    for name, entry in parameters_file().items():
        if main.params[name].type_name in ("array", "object"):
            assert entry["value"].endswith(":-null}"), name
