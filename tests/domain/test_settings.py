"""Settings fail fast, name the setting to fix, and never echo a value."""

from __future__ import annotations

import pytest

from controlplane.domain.errors import SettingsError
from controlplane.settings import load_settings

SUB = "11111111-2222-3333-4444-555555555555"
BASE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "CP_SUBSCRIPTION_ID": SUB}


def test_defaults_are_sensible() -> None:
    settings = load_settings(BASE)
    assert settings.registry_table == "brainstems"
    assert settings.default_region == "eastus2" and "eastus2" in settings.allowed_regions
    assert settings.default_runtime_target == "azure-consumption-py311"
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.package_url("abc123").endswith("/abc123.zip")


def test_the_example_local_settings_load() -> None:
    import json
    from pathlib import Path

    example = json.loads((Path(__file__).parents[2] / "local.settings.example.json").read_text())
    settings = load_settings(example["Values"])
    assert settings.task_hub


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"CP_SUBSCRIPTION_ID": None}, "CP_SUBSCRIPTION_ID is required"),
        ({"CP_SUBSCRIPTION_ID": "not-a-guid"}, "CP_SUBSCRIPTION_ID must be a subscription GUID"),
        ({"AzureWebJobsStorage": None}, "AzureWebJobsStorage"),
        ({"CP_ARM_ENDPOINT": "http://management.azure.com"}, "CP_ARM_ENDPOINT must be an https:// URL"),
        ({"CP_ENV_KEYS": "[1,2]"}, "CP_ENV_KEYS must be a JSON object"),
        ({"CP_ENV_KEYS": "{not json"}, "CP_ENV_KEYS must be a JSON object"),
        ({"CP_REGISTRY_TABLE": "bad-name"}, "CP_REGISTRY_TABLE must be 3-51 letters or digits"),
        ({"CP_DEFAULT_REGION": "marsnorth"}, "CP_DEFAULT_REGION must be one of CP_ALLOWED_REGIONS"),
        ({"CP_ALLOWED_REGIONS": "East US"}, "CP_ALLOWED_REGIONS must be a comma-separated list"),
        ({"CP_READINESS_TIMEOUT_SECONDS": "-5"}, "CP_READINESS_TIMEOUT_SECONDS"),
        ({"CP_ARM_CREDENTIAL": "sandbox"}, "CP_ARM_CREDENTIAL=sandbox is only for a loopback"),
        (
            {"CP_PACKAGE_URL_TEMPLATE": "https://x/pkg.zip"},
            "CP_PACKAGE_URL_TEMPLATE must be an https:// URL containing {deploy_ref}",
        ),
    ],
)
def test_bad_settings_name_what_to_fix(overrides: dict[str, str | None], named: str) -> None:
    environ = {**BASE, **overrides}
    environ = {k: v for k, v in environ.items() if v is not None}
    with pytest.raises(SettingsError) as info:
        load_settings(environ)
    assert named in info.value.detail


def test_errors_and_repr_never_echo_secret_values() -> None:
    secret = "DefaultEndpointsProtocol=https;AccountKey=SUPERSECRET=="
    env = {**BASE, "AzureWebJobsStorage": secret, "CP_ENV_KEYS": '{"OPENAI_KEY": "sk-SUPERSECRET"}'}
    assert "SUPERSECRET" not in repr(load_settings(env))
    with pytest.raises(SettingsError) as info:
        load_settings({**env, "CP_SUBSCRIPTION_ID": "SUPERSECRET"})
    assert "SUPERSECRET" not in str(info.value)
