"""Fixtures for the CLI tests: the stand-in API, a fake clock, and the CLI bound to both."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.cli.harness import FakeClock, Twinctl
from tests.cli.stub_api import StubControlPlane


@pytest.fixture
def stub() -> Iterator[StubControlPlane]:
    server = StubControlPlane()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens: bind a port, then release it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def twinctl(stub: StubControlPlane, clock: FakeClock) -> Twinctl:
    return Twinctl(stub, clock)
