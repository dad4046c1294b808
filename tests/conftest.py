"""Suite-wide fixtures: one Azurite per test run (the one `make test` started, or our own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.azurite import start_azurite
from sandbox.rig import ControlPlaneRig, reset_control_plane_caches


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


@pytest.fixture
def make_rig(
    storage_connection: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., ControlPlaneRig]]:
    """Start a rig (ARM stand-in options, clock, settings as keyword arguments); stopped after the test."""
    started: list[ControlPlaneRig] = []

    def make(**options: Any) -> ControlPlaneRig:
        environ: dict[str, str] = {}
        running = ControlPlaneRig(storage_connection, table_name=table_name, **options).start(environ)
        started.append(running)
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        reset_control_plane_caches()
        return running

    try:
        yield make
    finally:
        for running in started:
            running.stop()
        reset_control_plane_caches()


@pytest.fixture
def rig(make_rig: Callable[..., ControlPlaneRig]) -> ControlPlaneRig:
    """The control plane on loopback with a virtual clock: durable timers fire at once."""
    return make_rig()
