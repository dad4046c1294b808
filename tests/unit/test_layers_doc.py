"""docs/architecture.md's "Layers" names every contract in .importlinter, and no contract that is not there.

The table is the reader's view of what ``lint-imports`` checks; a contract added or renamed without
the table (or a row citing a contract that is gone) would make the doc promise what nothing checks.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    prefix = "importlinter:contract:"
    return {section.removeprefix(prefix) for section in config.sections() if section.startswith(prefix)}


def _layers_section() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layers\n(.*?)(?=^## )", text, re.M | re.S)
    assert match, "docs/architecture.md has no '## Layers' section"
    return match.group(1)


def test_the_layers_section_names_exactly_the_contracts_lint_imports_checks() -> None:
    named = set(re.findall(r"[Cc]ontracts? `([a-z-]+)`", _layers_section()))
    assert named == _contracts()


def test_the_one_ignored_import_is_the_one_the_doc_explains() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    ignored = {
        line.strip()
        for section in config.sections()
        for line in config[section].get("ignore_imports", "").splitlines()
        if line.strip()
    }
    assert ignored == {"activities.rollouts -> controlplane.service.rollout_batches"}
    assert "`activities/rollouts.py` imports `controlplane/service/rollout_batches.py`" in _layers_section()
