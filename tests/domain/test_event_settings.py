"""Event settings: off by default, sandbox exceptions refused on Azure, the signing key never echoed."""

from __future__ import annotations

import base64

import pytest

from controlplane.domain.errors import SettingsError
from controlplane.settings import load_settings

SUB = "11111111-2222-3333-4444-555555555555"
BASE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "CP_SUBSCRIPTION_ID": SUB}
KEY = "whsec_" + base64.b64encode(b"s3cr3t-signing-key-bytes-0123456789").decode()


def test_events_are_off_by_default() -> None:
    settings = load_settings(BASE)
    assert settings.eventgrid_endpoint is None and settings.callback_allowed_hosts == ()
    assert settings.callback_signing_keys == () and settings.callback_sandbox_loopback is False


def test_a_configured_control_plane() -> None:
    settings = load_settings({
        **BASE, "CP_EVENTGRID_ENDPOINT": "https://cp.eastus2-1.eventgrid.azure.net/api/events",
        "CP_CALLBACK_ALLOWED_HOSTS": "Hooks.Example.com., *.example.net", "CP_CALLBACK_SIGNING_KEY": f"{KEY} {KEY}",
    })  # fmt: skip
    assert settings.callback_allowed_hosts == ("*.example.net", "hooks.example.com")
    assert settings.callback_signing_keys == (KEY, KEY)
    assert KEY not in repr(settings)


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"CP_EVENTGRID_ENDPOINT": "http://cp.eastus2-1.eventgrid.azure.net/api/events"}, "CP_EVENTGRID_ENDPOINT"),
        ({"CP_EVENTGRID_CREDENTIAL": "sandbox", "CP_EVENTGRID_ENDPOINT": "https://cp.eastus2-1.eventgrid.azure.net/api/events"}, "CP_EVENTGRID_CREDENTIAL"),
        ({"CP_EVENTGRID_CREDENTIAL": "sandbox"}, "CP_EVENTGRID_CREDENTIAL"),
        ({"CP_CALLBACK_ALLOWED_HOSTS": "hooks.example.com"}, "CP_CALLBACK_SIGNING_KEY"),
        ({"CP_CALLBACK_ALLOWED_HOSTS": "*", "CP_CALLBACK_SIGNING_KEY": KEY}, "CP_CALLBACK_ALLOWED_HOSTS"),
        ({"CP_CALLBACK_ALLOWED_HOSTS": "10.0.0.1", "CP_CALLBACK_SIGNING_KEY": KEY}, "CP_CALLBACK_ALLOWED_HOSTS"),
        ({"CP_CALLBACK_ALLOWED_HOSTS": "hooks.example.com", "CP_CALLBACK_SANDBOX_LOOPBACK": "true", "CP_CALLBACK_SIGNING_KEY": KEY}, "CP_CALLBACK_SANDBOX_LOOPBACK"),
        ({"CP_CALLBACK_ALLOWED_HOSTS": "127.0.0.1,hooks.example.com", "CP_CALLBACK_SANDBOX_LOOPBACK": "true", "CP_CALLBACK_SIGNING_KEY": KEY}, "CP_CALLBACK_SANDBOX_LOOPBACK"),
        ({"CP_CALLBACK_SANDBOX_LOOPBACK": "true"}, "CP_CALLBACK_SANDBOX_LOOPBACK"),
        ({"CP_CALLBACK_SIGNING_KEY": "not-a-whsec-key-but-long-enough"}, "CP_CALLBACK_SIGNING_KEY"),
        ({"CP_CALLBACK_SIGNING_KEY": "whsec_" + base64.b64encode(b"short").decode()}, "CP_CALLBACK_SIGNING_KEY"),
        ({"CP_CALLBACK_SIGNING_KEY": "whsec_%%%not-base64%%%"}, "CP_CALLBACK_SIGNING_KEY"),
    ],
)  # fmt: skip
def test_wrong_event_settings_name_the_setting(values: dict[str, str], setting: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**BASE, **values})
    assert error.value.extensions["setting"] == setting, error.value.detail
    for value in values.values():
        if "whsec_" in value or "signing" in value:
            assert value not in error.value.detail


def test_the_sandbox_exceptions_hold_for_loopback_only() -> None:
    settings = load_settings({
        **BASE, "CP_CALLBACK_ALLOWED_HOSTS": "127.0.0.1,localhost", "CP_CALLBACK_SANDBOX_LOOPBACK": "true",
        "CP_CALLBACK_SIGNING_KEY": KEY, "CP_EVENTGRID_ENDPOINT": "https://127.0.0.1:4443/api/events",
        "CP_EVENTGRID_CREDENTIAL": "sandbox",
    })  # fmt: skip
    assert settings.callback_policy.sandbox_loopback and settings.eventgrid_credential == "sandbox"
