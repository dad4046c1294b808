"""Identity only: no storage account of ours accepts a key, no service takes local (key) auth, and no file
under infra/ reads a key or builds a connection string with one."""

from __future__ import annotations

import re

import pytest

from tests.infra.bicep import BicepFile, declaration_body, properties
from tests.infra.deployment import INFRA, ROOT

INFRA_FILES = sorted(p for p in INFRA.rglob("*") if p.is_file())
BICEP = [BicepFile(path) for path in sorted(INFRA.rglob("*.bicep"))]


def created(resource_type: str) -> list[tuple[str, dict]]:
    """(file:symbol, properties) of every resource of this type infra/ creates (not `existing` ones)."""
    found = []
    for file in BICEP:
        for name, declaration in file.resources.items():
            if (
                declaration.type_name.split("@")[0] == resource_type
                and " existing " not in declaration.node.text.decode()
            ):
                body = properties(declaration_body(declaration))
                found.append(
                    (f"{file.path.name}:{name}", properties(body["properties"]) if "properties" in body else {})
                )
    return found


def flag(props: dict, name: str) -> str:
    return props[name].text.decode() if name in props else "<unset>"


def test_no_key_is_read_or_written_anywhere_in_infra() -> None:
    assert INFRA_FILES
    for path in [*INFRA_FILES, ROOT / "azure.yaml"]:
        text = path.read_text()
        for pattern in (
            r"listKeys",
            r"AccountKey=",
            r"SharedAccessSignature",
            r"listConnectionStrings",
            r"@secure\(\)",
        ):
            assert not re.search(pattern, text, re.IGNORECASE), f"{path.relative_to(ROOT)}: {pattern}"


def test_every_storage_account_refuses_shared_keys() -> None:
    accounts = created("Microsoft.Storage/storageAccounts")
    assert accounts
    for where, props in accounts:
        assert flag(props, "allowSharedKeyAccess") == "false", where
        assert flag(props, "allowBlobPublicAccess") == "false", where
        assert flag(props, "minimumTlsVersion") == "'TLS1_2'", where


@pytest.mark.parametrize(
    ("resource_type", "setting"),
    [
        ("Microsoft.Insights/components", "DisableLocalAuth"),
        ("Microsoft.EventGrid/topics", "disableLocalAuth"),
    ],
)
def test_services_with_local_auth_have_it_off(resource_type: str, setting: str) -> None:
    resources = created(resource_type)
    assert resources
    for where, props in resources:
        assert flag(props, setting) == "true", where


def test_log_analytics_refuses_local_auth() -> None:
    [(where, props)] = created("Microsoft.OperationalInsights/workspaces")
    assert flag(properties(props["features"]), "disableLocalAuth") == "true", where


def test_the_function_app_has_no_publishing_passwords_and_https_only() -> None:
    [(where, site)] = created("Microsoft.Web/sites")
    assert flag(site, "httpsOnly") == "true", where
    policies = created("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert len(policies) == 2 and all(flag(props, "allow") == "false" for _, props in policies)
    deployment = site["functionAppConfig"].text.decode()
    assert "type: 'UserAssignedIdentity'" in deployment and "StorageAccountConnectionString" not in deployment
