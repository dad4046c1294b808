"""Delivering a callback: checked again at send time (DNS may have changed), pinned, signed, verified by the receiver."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from controlplane.domain.events import LifecycleEvent, Transition
from controlplane.events.webhook import DeliveryFailed, DeliveryRefused, deliver
from controlplane.settings import Settings, load_settings
from sandbox.events import EventReceiver

ROW = {
    "cloud_id": "twin-kody-e89834", "name": "kody", "owner": "github:a", "region": "eastus2",
    "runtime_target": "azure-consumption-py311", "deploy_ref": "main", "job_id": "a" * 32, "url": None,
}  # fmt: skip
EVENT = LifecycleEvent.from_row(Transition.ACCEPTED, {**ROW, "status": "provisioning"}, time="2026-11-25T01:00:00Z")


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver() as running:
        yield running


def settings_for(receiver: EventReceiver, **extra: str) -> Settings:
    return load_settings({
        "AzureWebJobsStorage": "UseDevelopmentStorage=true", "CP_SUBSCRIPTION_ID": "00000000-0000-4000-8000-000000000001",
        "CP_CALLBACK_SIGNING_KEY": receiver.signing_key, "CP_EVENTS_CA_BUNDLE": receiver.ca_path,
        "CP_CALLBACK_ALLOWED_HOSTS": "127.0.0.1,localhost", "CP_CALLBACK_SANDBOX_LOOPBACK": "true", **extra,
    })  # fmt: skip


def test_a_signed_event_reaches_a_name_with_several_addresses(receiver: EventReceiver) -> None:
    # localhost resolves to ::1 and 127.0.0.1; the receiver listens on the IPv4 one only.
    url = receiver.hook_url("kody").replace("127.0.0.1", "localhost")
    assert deliver(EVENT.to_cloudevent("/cp"), url, settings_for(receiver)) == 204
    assert receiver.events("callback:kody") == [EVENT.to_cloudevent("/cp")]


def test_a_wrong_key_is_refused_by_the_receiver(receiver: EventReceiver) -> None:
    other = EventReceiver()  # only for its fresh key
    with pytest.raises(DeliveryRefused, match="401"):
        deliver(
            EVENT.to_cloudevent("/cp"),
            receiver.hook_url(),
            settings_for(receiver, CP_CALLBACK_SIGNING_KEY=other.signing_key),
        )
    assert receiver.events() == []


def test_an_untrusted_certificate_is_not_delivered_to(receiver: EventReceiver) -> None:
    settings = settings_for(receiver).model_copy(update={"events_ca_bundle": None})  # public CAs only
    with pytest.raises(DeliveryFailed, match="SSLError"):
        deliver(EVENT.to_cloudevent("/cp"), receiver.hook_url(), settings)
    assert receiver.events() == []


def test_a_host_taken_off_the_allow_list_is_not_called(receiver: EventReceiver) -> None:
    with pytest.raises(DeliveryRefused, match="allow-list"):
        deliver(
            EVENT.to_cloudevent("/cp"),
            receiver.hook_url(),
            settings_for(receiver, CP_CALLBACK_ALLOWED_HOSTS="localhost"),
        )
    assert receiver.refused == [] and receiver.events() == []


def test_a_name_that_now_resolves_inside_the_network_is_not_called(
    receiver: EventReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accepted at POST while it resolved to a public address; by delivery time its DNS says 10.0.0.9."""
    real = socket.getaddrinfo

    def rebound(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.9", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    settings = load_settings({
        "AzureWebJobsStorage": "UseDevelopmentStorage=true", "CP_SUBSCRIPTION_ID": "00000000-0000-4000-8000-000000000001",
        "CP_CALLBACK_SIGNING_KEY": receiver.signing_key, "CP_CALLBACK_ALLOWED_HOSTS": "rebind.example.com",
    })  # fmt: skip
    with pytest.raises(DeliveryRefused, match="10.0.0.9 is a private address"):
        deliver(EVENT.to_cloudevent("/cp"), "https://rebind.example.com/hook", settings)
