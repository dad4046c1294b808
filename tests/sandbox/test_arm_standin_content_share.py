"""The content-share settings of a Consumption site are validated as App Service validates them
(sandbox/arm/content_share.py has the sources): a connection string that does not open the account, or
a share name outside the rules, is 400 on create and on a settings update; neither setting is required."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.sandbox.test_arm_standin import Clients, arm, clients, group, plan_body, site_body, storage_body  # noqa: F401 - the same fixtures

CONNECTION = "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"
SHARE = "WEBSITE_CONTENTSHARE"


def _connection(clients: Clients, group: str, *, key: str | None = None) -> str:
    account = clients.storage.storage_accounts.begin_create(group, "sttwin0001", storage_body()).result()
    real = clients.storage.storage_accounts.list_keys(group, account.name)["keys"][0]["value"]
    return f"DefaultEndpointsProtocol=https;AccountName={account.name};AccountKey={key or real};EndpointSuffix=core.windows.net"


def _create(clients: Clients, group: str, settings: dict[str, str]):
    plan = clients.web.app_service_plans.begin_create_or_update(group, "plan-twin-0001", plan_body()).result()
    return clients.web.web_apps.begin_create_or_update(group, "fa-twin-0001", site_body(plan.id, settings)).result()


def _refusal(clients: Clients, group: str, settings: dict[str, str]) -> str:
    with pytest.raises(HttpResponseError) as caught:
        _create(clients, group, settings)
    assert caught.value.status_code == 400
    return caught.value.response.json()["Message"]


def test_the_pair_the_cli_sets_is_accepted_and_neither_is_required(clients: Clients, group: str) -> None:
    connection = _connection(clients, group)
    assert _create(clients, group, {CONNECTION: connection, SHARE: "fa-twin-00010123456789ab"}).name == "fa-twin-0001"
    assert _create(clients, group, {"FUNCTIONS_WORKER_RUNTIME": "python"}).name == "fa-twin-0001"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        pytest.param("wrong-key", f"The parameter {CONNECTION} has an invalid value.", id="a-key-not-the-accounts"),
        pytest.param("no-account", f"The parameter {CONNECTION} has an invalid value.", id="no-such-account"),
        pytest.param("unparsable", "The storage URI is invalid.", id="no-account-and-key"),
        pytest.param("capital-share", "(400) Bad Request", id="a-share-name-with-capitals"),
        pytest.param("long-share", "(400) Bad Request", id="a-share-name-of-64"),
    ],
)
def test_content_settings_azure_cannot_use_are_refused(
    clients: Clients, group: str, setting: str, message: str
) -> None:
    connection = _connection(clients, group)
    settings = {
        "wrong-key": {CONNECTION: _connection(clients, group, key="bm90LXRoZS1rZXk="), SHARE: "share-0001"},
        "no-account": {CONNECTION: connection.replace("sttwin0001", "stnobody0001"), SHARE: "share-0001"},
        "unparsable": {CONNECTION: "UseDevelopmentStorage=false", SHARE: "share-0001"},
        "capital-share": {CONNECTION: connection, SHARE: "FA-twin-0001"},
        "long-share": {CONNECTION: connection, SHARE: "a" * 64},
    }[setting]
    assert message in _refusal(clients, group, settings)
    # WEBSITE_SKIP_CONTENTSHARE_VALIDATION=1 skips the check, as Learn says (the app then fails to start).
    assert _create(clients, group, {**settings, "WEBSITE_SKIP_CONTENTSHARE_VALIDATION": "1"}).name == "fa-twin-0001"


def test_a_settings_update_is_validated_too(clients: Clients, group: str) -> None:
    _create(clients, group, {"FUNCTIONS_WORKER_RUNTIME": "python"})
    bad = {CONNECTION: _connection(clients, group, key="bm90LXRoZS1rZXk="), SHARE: "share-0001"}
    with pytest.raises(HttpResponseError) as caught:
        clients.web.web_apps.update_application_settings(group, "fa-twin-0001", {"properties": bad})
    assert caught.value.status_code == 400
    assert clients.web.web_apps.list_application_settings(group, "fa-twin-0001").properties == {
        "FUNCTIONS_WORKER_RUNTIME": "python"
    }
