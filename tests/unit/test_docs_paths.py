"""Every path the README and docs/ name exists, so the docs cannot drift from the tree unnoticed.

A doc names our files in backticks (`controlplane/domain/placement.py`), sometimes with a member
(`orchestrators/steps.ARM_REQUESTS`), and other docs by Markdown link. Paths of other projects
(the Azure CLI's `appservice/custom.py`, azd's `pkg/azsdk/...`) are not ours to check: only a path
whose first part is one of this repository's top-level entries is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_TOP_LEVEL = {entry.name for entry in ROOT.iterdir() if not entry.name.startswith(".git")} - {".venv", "node_modules"}
_CODE_SPAN = re.compile(r"`([^`\s]+)`")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_PATHLIKE = re.compile(r"[A-Za-z0-9_.\-/]+")


def _candidates(text: str) -> set[str]:
    found = set(_CODE_SPAN.findall(text)) | set(_LINK.findall(text))
    tokens = {token.rstrip(".,:;") for token in found if _PATHLIKE.fullmatch(token)}
    return {token for token in tokens if not token.startswith(("http", "/"))}  # URLs and URL paths


def _exists(base: Path, token: str) -> bool:
    path = (base / token).resolve()
    if path.exists():
        return True
    # `package/module.member`: the module is what must exist.
    module, _, member = token.rpartition(".")
    source = base / f"{module}.py"
    return bool(module) and member.isidentifier() and source.exists() and _defines(source, member)


def _defines(source: Path, member: str) -> bool:
    return (
        re.search(rf"^\s*(?:async def|def|class)?\s*{re.escape(member)}\b", source.read_text(encoding="utf-8"), re.M)
        is not None
    )


def _ours(base: Path, token: str) -> bool:
    first = Path(token).parts[0]
    return (
        token.endswith(".md")
        or first in _TOP_LEVEL
        or (base != ROOT and (base / first).exists())
        or first in {"..", "docs"}
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_doc_names_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = []
    for token in sorted(_candidates(text)):
        if "/" not in token and not token.endswith(".md"):
            continue  # a bare word (`make`, `host.json`) is not a path claim
        # Links are relative to the doc; code spans name paths from the repository's root.
        for base in (doc.parent, ROOT):
            if _ours(base, token) and _exists(base, token):
                break
        else:
            if any(_ours(base, token) for base in (doc.parent, ROOT)):
                missing.append(token)
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
