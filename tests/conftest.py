"""Suite-wide fixtures: one Azurite per test run (the one `make test` started, or our own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from sandbox.azurite import start_azurite


@pytest.fixture(scope="session")
def storage_connection() -> Iterator[str]:
    """A connection string to a real, in-memory Azurite."""
    given = os.environ.get("CP_TEST_STORAGE_CONNECTION")
    if given:
        yield given
        return
    azurite = start_azurite()
    try:
        yield azurite.connection_string
    finally:
        azurite.stop()


@pytest.fixture
def table_name() -> str:
    """A fresh table per test, so tests never see each other's rows."""
    return "t" + uuid.uuid4().hex[:20]
