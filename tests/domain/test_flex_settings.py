"""Flex Consumption settings: sensible defaults, and the sandbox-only seams refused anywhere but loopback."""

from __future__ import annotations

import pytest

from controlplane.domain.errors import SettingsError
from controlplane.settings import load_settings

SUB = "11111111-2222-3333-4444-555555555555"
BASE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "CP_SUBSCRIPTION_ID": SUB}
AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=SANDBOXKEY==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


def test_flex_defaults() -> None:
    settings = load_settings(BASE)
    assert (settings.flex_instance_memory_mb, settings.flex_maximum_instance_count) == (2048, 100)
    assert settings.sandbox_blob_connection is None
    assert (settings.readiness_path, settings.scm_url_template) == ("/api/health", "https://{scm_host}")


@pytest.mark.parametrize(
    "template",
    [
        "http://127.0.0.1:8123/brainstems/{deploy_ref}.zip",
        "http://localhost/{deploy_ref}.zip",
        "https://pkgs.example/{deploy_ref}.zip",
    ],
)
def test_package_template_may_be_http_only_on_loopback(template: str) -> None:
    assert load_settings({**BASE, "CP_PACKAGE_URL_TEMPLATE": template}).package_url("v1").endswith("v1.zip")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (
            {"CP_PACKAGE_URL_TEMPLATE": "http://pkgs.example/{deploy_ref}.zip"},
            "CP_PACKAGE_URL_TEMPLATE must be an https:// URL",
        ),
        ({"CP_FLEX_INSTANCE_MEMORY_MB": "1024"}, "CP_FLEX_INSTANCE_MEMORY_MB must be 512, 2048 or 4096"),
        ({"CP_FLEX_MAXIMUM_INSTANCE_COUNT": "0"}, "CP_FLEX_MAXIMUM_INSTANCE_COUNT"),  # Learn: lowest maximum is 1
        ({"CP_FLEX_MAXIMUM_INSTANCE_COUNT": "1001"}, "CP_FLEX_MAXIMUM_INSTANCE_COUNT"),
        (
            {
                "CP_FLEX_SANDBOX_BLOB_CONNECTION": AZURITE.replace(
                    "http://127.0.0.1:10000", "https://sttwin.blob.core.windows.net"
                )
            },
            "CP_FLEX_SANDBOX_BLOB_CONNECTION is only for a loopback blob service",
        ),
        (
            {"CP_SANDBOX_BLOB_CONNECTION": "AccountName=x;AccountKey=SANDBOXKEY=="},
            "CP_SANDBOX_BLOB_CONNECTION",
        ),
        ({"CP_BRAINSTEM_READINESS_PATH": "/"}, "CP_BRAINSTEM_READINESS_PATH"),  # the root proves nothing
        ({"CP_BRAINSTEM_READINESS_PATH": "api/health"}, "CP_BRAINSTEM_READINESS_PATH"),
        ({"CP_SCM_URL_TEMPLATE": "http://{scm_host}"}, "CP_SCM_URL_TEMPLATE"),  # an ARM token over plain http
        ({"CP_SCM_URL_TEMPLATE": "https://scm.example"}, "CP_SCM_URL_TEMPLATE"),
    ],
)
def test_bad_flex_settings_name_what_to_fix_without_echoing_values(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({**BASE, **overrides})
    assert named in info.value.detail
    assert "SANDBOXKEY" not in info.value.detail


@pytest.mark.parametrize("name", ["CP_SANDBOX_BLOB_CONNECTION", "CP_FLEX_SANDBOX_BLOB_CONNECTION"])
def test_the_sandbox_blob_connection_is_accepted_on_loopback_and_never_shown(name: str) -> None:
    settings = load_settings({**BASE, name: AZURITE})
    assert settings.sandbox_blob_connection == AZURITE
    assert "SANDBOXKEY" not in repr(settings)


def test_readiness_and_scm_urls_are_built_from_their_templates() -> None:
    from controlplane.domain.naming import twin_names

    settings = load_settings(
        {**BASE, "CP_BRAINSTEM_READINESS_PATH": "/api/ready", "CP_SCM_URL_TEMPLATE": "http://127.0.0.1:9/{app_name}"}
    )
    assert settings.readiness_url(twin_names("kody")) == "https://twin-kody-e89834.azurewebsites.net/api/ready"
    assert settings.scm_url(scm_host="x.scm.azurewebsites.net", app_name="twin-kody-e89834") == (
        "http://127.0.0.1:9/twin-kody-e89834"
    )
