"""callback_url at POST: every SSRF attempt is a 400 naming the field, with nothing written; a good one is kept.

The resolver is the operating system's (``socket.getaddrinfo``). For names under example.* it
answers from a table here, as a DNS server an attacker controls would: the control plane's own
code runs unchanged.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from typing import Any

import pytest

from controlplane.registry import default_registry
from sandbox.events import EventReceiver
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api

KEY = "whsec_" + base64.b64encode(b"k" * 32).decode()
DNS = {
    "internal.example.net": ["10.0.0.7"],
    "metadata.example.net": ["169.254.169.254"],
    "mixed.example.net": ["20.42.65.92", "192.168.0.1"],  # one public answer does not excuse a private one
    "ula.example.net": ["fd00::5"],
    "mapped.example.net": ["::ffff:127.0.0.1"],
    "cgnat.example.net": ["100.64.1.1"],
}


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith((".example.net", ".example.com")):
            if host not in DNS:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in DNS[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def guarded(make_rig: Callable[..., ControlPlaneRig], fake_dns: None) -> Api:
    """A control plane configured as on Azure: an allow-list, a signing key, no sandbox exception."""
    hosts = "hooks.example.com,*.example.net,localhost"
    rig = make_rig(settings={"CP_CALLBACK_ALLOWED_HOSTS": hosts, "CP_CALLBACK_SIGNING_KEY": KEY})
    return Api(rig)


@pytest.mark.parametrize(
    ("callback_url", "says"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("https://127.0.0.1/x", "not an IP address"),
        ("https://169.254.169.254/metadata/instance", "not an IP address"),
        ("https://2130706433/x", "not an IP address"),
        ("https://0177.0.0.1/x", "not an IP address"),
        ("https://[::1]/x", "not an IP address"),
        ("https://[::ffff:169.254.169.254]/x", "not an IP address"),
        ("https://[fd12::1]/x", "not an IP address"),
        ("https://user:secret@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x?sig=abc", "query string"),
        ("https://elsewhere.example.org/x", "allow-list"),
        ("https://localhost/x", "127.0.0.1 is a loopback address"),  # the real resolver
        ("https://internal.example.net/x", "10.0.0.7 is a private address"),
        ("https://metadata.example.net/x", "169.254.169.254 is a link-local address"),
        ("https://mixed.example.net/x", "192.168.0.1 is a private address"),
        ("https://ula.example.net/x", "fd00::5 is a private address"),
        ("https://mapped.example.net/x", "::ffff:127.0.0.1 is a loopback address"),
        ("https://cgnat.example.net/x", "100.64.1.1 is not a public address"),
        ("https://nowhere.example.net/x", "does not resolve"),
    ],
)
def test_ssrf_attempts_are_refused_at_post(guarded: Api, callback_url: str, says: str) -> None:
    answer = guarded.post({"name": "kody", "owner": "github:a", "callback_url": callback_url})
    assert answer.status == 400, answer.body
    assert answer.json["field"] == "callback_url"
    assert says in answer.json["detail"]
    assert guarded.health()["total"] == 0 and guarded.rig.arm.requests == []


def test_callbacks_are_refused_where_none_are_allowed(api: Api) -> None:
    answer = api.post({"name": "kody", "owner": "github:a", "callback_url": "https://hooks.example.com/x"})
    assert (answer.status, answer.json["field"]) == (400, "callback_url")
    assert "not enabled" in answer.json["detail"]


def test_a_callback_hears_exactly_one_active_event_carrying_the_url(make_rig: Callable[..., ControlPlaneRig]) -> None:
    receiver = EventReceiver()
    api = Api(make_rig(events=receiver))
    answer = api.post({"name": "kody", "owner": "github:a", "callback_url": receiver.hook_url("kody")})
    assert answer.status == 202, answer.body
    job = api.wait(answer.json["job_id"])
    assert job["runtime_status"] == "Completed"
    row = api.get("twin-kody-e89834").json
    assert row["callback_url"] == receiver.hook_url("kody")
    active = receiver.events("callback:kody", type="dev.twinstack.brainstem.active")
    assert len(active) == 1
    assert active[0]["data"]["url"] == row["url"] == job["output"]["url"]
    assert active[0]["subject"] == "twin-kody-e89834" and active[0]["data"]["owner"] == "github:a"
    assert default_registry().get("twin-kody-e89834").callback_url == receiver.hook_url("kody")
