"""docs/settings.md is what the Settings model generates: every setting, its default and bounds, its meaning."""

from __future__ import annotations

from controlplane.settings.model import Settings
from controlplane.settings.reference import DOC, MEANINGS, render, setting_names


def test_every_setting_has_a_meaning_and_every_meaning_a_setting() -> None:
    settings = {setting_names(field)[0] for field in Settings.model_fields.values()}
    assert settings - MEANINGS.keys() == set(), "say what these settings mean in controlplane/settings/reference.py"
    assert MEANINGS.keys() - settings == set(), "these meanings name no setting of the model"


def test_the_reference_doc_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m controlplane.settings.reference"


def test_the_reference_shows_each_settings_default_and_bounds() -> None:
    doc = render()
    assert "| `CP_OWNER_QUOTA` | `10` | ≥ 0, ≤ 1000 |" in doc
    assert "| `CP_SUBSCRIPTION_ID` | required |" in doc
    assert "`CP_STORAGE_CONNECTION` / `AzureWebJobsStorage`" in doc
