"""Per-twin settings: Key Vault references only, platform names refused, null removes."""

from __future__ import annotations

import pytest

from controlplane.domain.app_settings import merged, validate_app_settings
from controlplane.domain.errors import InvalidInput

URI = "@Microsoft.KeyVault(SecretUri=https://kv-twins.vault.azure.net/secrets/openai-key)"
VERSIONED = "@Microsoft.KeyVault(SecretUri=https://kv-twins.vault.azure.net/secrets/openai-key/" + "a" * 32 + ")"
BY_NAME = "@Microsoft.KeyVault(VaultName=kv-twins;SecretName=openai-key)"


@pytest.mark.parametrize("reference", [URI, VERSIONED, BY_NAME, None])
def test_key_vault_references_and_removals_are_accepted(reference: str | None) -> None:
    assert validate_app_settings({"OPENAI_API_KEY": reference}) == {"OPENAI_API_KEY": reference}


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"OPENAI_API_KEY": "sk-live-123"}, "app_settings.OPENAI_API_KEY"),  # a secret itself: never stored
        ({"OPENAI_API_KEY": URI.replace("vault.azure.net", "evil.example")}, "app_settings.OPENAI_API_KEY"),
        ({"OPENAI_API_KEY": URI + " "}, "app_settings.OPENAI_API_KEY"),
        ({"OPENAI_API_KEY": 7}, "app_settings.OPENAI_API_KEY"),
        ({"AzureWebJobsStorage": URI}, "app_settings"),
        ({"WEBSITE_RUN_FROM_PACKAGE": URI}, "app_settings"),
        ({"FUNCTIONS_WORKER_RUNTIME": None}, "app_settings"),
        ({"has space": URI}, "app_settings"),
        ({}, "app_settings"),
        ({f"K{i}": URI for i in range(51)}, "app_settings"),
        ([URI], "app_settings"),
    ],
)
def test_anything_else_names_the_field_to_fix(settings: object, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_app_settings(settings)
    assert refused.value.extensions["field"] == field


def test_changes_merge_over_what_the_twin_has_and_null_removes() -> None:
    assert merged({"A": URI, "B": BY_NAME}, {"B": None, "C": URI}) == {"A": URI, "C": URI}
    assert merged({"A": URI}, {"A": None}) is None
    assert merged(None, None) is None
