"""No product module imports inside a function: every import is at the top, where ``lint-imports`` sees it.

An import hidden in a function body is how a layer rule gets dodged (the adapter that reaches the
service "only when called") and how an import cycle hides until the first call. import-linter reads
every import, but the layers in ``.importlinter`` only mean something if none is tucked away to
break a cycle or to reach up a layer; so this test walks the syntax tree of every product module and
fails on any ``import`` / ``from … import`` inside a ``def``, ``async def`` or ``lambda``, and on
``importlib.import_module(…)`` / ``__import__(…)`` anywhere (an import by name, which no linter sees).

The allow-list is short and says why: only an import that must not run at start-up belongs in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("function_app.py", "http_api", "orchestrators", "activities", "controlplane", "twinctl")

# (module file, the module it imports) -> why it is imported inside a function.
ALLOWED: dict[tuple[str, str], str] = {
    ("controlplane/telemetry/setup.py", "azure.monitor.opentelemetry"): (
        "Microsoft's OpenTelemetry distro, imported only when APPLICATIONINSIGHTS_CONNECTION_STRING is set: "
        "it loads the OpenTelemetry SDK and its instrumentations (about 0.2 s here, a third of the app's own "
        "import), a cost every cold start would pay with telemetry off; it is of no layer of ours"
    ),
}

_BY_NAME = {("importlib", "import_module"), ("", "__import__"), ("", "import_module")}


def product_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for entry in PRODUCT:
        path = root / entry
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def hidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) for each import inside a function and each import by name, in one module's source."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                found.append((node.lineno, "." * node.level + (node.module or "")))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node.func) in _BY_NAME:
            found.append((node.lineno, f"{ast.unparse(node.func)}(…)"))
    return sorted(set(found))


def _called_name(func: ast.expr) -> tuple[str, str]:
    if isinstance(func, ast.Name):
        return "", func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return "", ""


def _hidden_in_product(root: Path = ROOT) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for path in product_files(root):
        relative = path.relative_to(root).as_posix()
        for line, module in hidden_imports(path.read_text(encoding="utf-8")):
            found.setdefault((relative, module), line)
    return found


def test_no_product_module_imports_inside_a_function() -> None:
    hidden = {key: line for key, line in _hidden_in_product().items() if key not in ALLOWED}
    assert not hidden, "imports hidden inside functions (hoist them, or name them in ALLOWED with the reason): " + (
        ", ".join(f"{path}:{line} imports {module}" for (path, module), line in sorted(hidden.items()))
    )


def test_every_allowed_hidden_import_is_still_there() -> None:
    """An entry whose import has moved to the top (or gone) is taken off the list, so the list stays true."""
    stale = sorted(set(ALLOWED) - set(_hidden_in_product()))
    assert not stale, f"allowed hidden imports that no longer exist: {stale}"


def test_the_walk_covers_every_product_package() -> None:
    files = {path.relative_to(ROOT).parts[0] for path in product_files()}
    assert files == set(PRODUCT)
    assert len(product_files()) > 100  # the whole product, not one folder


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    import json\n", [(2, "json")]),
        ("async def f():\n    from controlplane import service\n", [(2, "controlplane")]),
        ("class A:\n    def m(self):\n        from . import x\n", [(3, ".")]),
        ("def f():\n    def g():\n        from ..registry import y\n", [(3, "..registry")]),
        (
            "import importlib\nmodule = importlib.import_module('controlplane.service')\n",
            [(2, "importlib.import_module(…)")],
        ),
        ("def f():\n    return __import__('os')\n", [(2, "__import__(…)")]),
        ("import json\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import os\n", []),
        ("class A:\n    import json\n", []),
    ],
    ids=[
        "import-in-def",
        "from-import-in-async-def",
        "relative-in-method",
        "nested-def",
        "importlib-by-name",
        "dunder-import",
        "top-level-and-type-checking-allowed",
        "class-body-is-not-a-function",
    ],
)
def test_what_counts_as_a_hidden_import(source: str, expected: list[tuple[int, str]]) -> None:
    assert hidden_imports(source) == expected
