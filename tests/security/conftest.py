"""Two owners and an operator calling the control plane over real HTTP: a front door over the rig."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from controlplane.auth import hash_api_key
from sandbox.durable.event_loop import BackgroundLoop
from sandbox.front_door import FrontDoor, http_routes
from sandbox.rig import ControlPlaneRig, reset_control_plane_caches
from sandbox.worker import app_worker
from tests.api.identity_provider import IdentityProvider
from tests.api.test_doorman import idp  # noqa: F401 - the loopback OpenID provider fixture, shared

OPERATOR_KEY = "security-suite-operator-key"


@pytest.fixture
def served(
    make_rig: Callable[..., ControlPlaneRig], idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ControlPlaneRig, str]]:
    """The rig with two issuers' owners allowed, served on loopback: (rig, base URL)."""
    rig = make_rig(
        operator_key=OPERATOR_KEY,
        settings={"CP_AUTH": idp.auth_setting(hash_api_key(OPERATOR_KEY)), "CP_RETRY_AFTER_SECONDS": "1"},
    )
    assert rig.durable is not None
    loop = BackgroundLoop("front-door")
    door = FrontDoor(http_routes(app_worker().functions.values()), rig.call, rig.durable.base_url, port=0)
    loop.run(door.start())
    # Links are absolute from configuration, as App Service's WEBSITE_HOSTNAME makes them on Azure.
    monkeypatch.setenv("CP_PUBLIC_BASE_URL", door.base_url)
    reset_control_plane_caches()
    try:
        yield rig, door.base_url
    finally:
        loop.run(door.close())
        loop.close()
