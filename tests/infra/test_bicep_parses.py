"""Every .bicep file under infra/ parses, twice: pycep-parser (a Python Bicep parser) and tree-sitter-bicep
as a strict gate (no ERROR or MISSING node anywhere). The Bicep CLI cannot be had on these machines;
two independent grammars agreeing is the next best thing, and CI runs checkov on top (make iac-lint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pycep import BicepParser

from tests.infra.bicep import BicepFile, BicepSyntaxError, parse
from tests.infra.deployment import INFRA

BICEP_FILES = sorted(INFRA.rglob("*.bicep"))


def test_there_is_infra_to_check() -> None:
    names = {path.relative_to(INFRA).as_posix() for path in BICEP_FILES}
    assert {
        "main.bicep",
        "app/function-app.bicep",
        "app/app-settings.bicep",
        "app/pool-subscription-roles.bicep",
    } <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_pycep_parses(path: Path) -> None:
    parsed = BicepParser().parse(file_path=path)
    declared = BicepFile(path)  # tree-sitter
    assert set(parsed.get("parameters", {})) == set(declared.params)
    assert set(parsed.get("outputs", {})) == set(declared.outputs)
    assert set(parsed.get("resources", {})) == set(declared.resources)
    assert set(parsed.get("modules", {})) == set(declared.modules)


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_tree_sitter_parses_without_error_nodes(path: Path) -> None:
    parse(path.read_bytes(), str(path))


@pytest.mark.parametrize(
    "broken",
    [
        "param name string = 'unterminated\n",
        "resource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n",
        "var x = {\n  a: 1,,\n}\n",
    ],
)
def test_both_gates_reject_broken_bicep(broken: str) -> None:
    with pytest.raises(BicepSyntaxError):
        parse(broken.encode())
    with pytest.raises(Exception):  # noqa: B017 - pycep raises lark's exceptions
        BicepParser().parse(text=broken)
