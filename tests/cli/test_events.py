"""twinctl create --callback-url and twinctl events: the body sent, and the sandbox feed printed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from controlplane.domain.events import LifecycleEvent, Transition
from controlplane.events.webhook import deliver
from controlplane.settings import load_settings
from sandbox.events import EventReceiver
from tests.cli.harness import Twinctl, assert_error
from tests.cli.stub_api import JOB_ID, StubControlPlane, accepted

ROW = {
    "cloud_id": "twin-kody-e89834", "name": "kody", "owner": "github:kody", "region": "eastus2",
    "runtime_target": "azure-consumption-py311", "deploy_ref": "main", "job_id": "b" * 32,
    "url": "https://twin-kody-e89834.azurewebsites.net",
}  # fmt: skip


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver() as running:
        yield running


def send(receiver: EventReceiver, transition: Transition, status: str, url: str | None = None) -> None:
    settings = load_settings({
        "AzureWebJobsStorage": "UseDevelopmentStorage=true", "CP_SUBSCRIPTION_ID": "00000000-0000-4000-8000-000000000001",
        "CP_CALLBACK_SIGNING_KEY": receiver.signing_key, "CP_EVENTS_CA_BUNDLE": receiver.ca_path,
        "CP_CALLBACK_ALLOWED_HOSTS": "127.0.0.1", "CP_CALLBACK_SANDBOX_LOOPBACK": "true",
    })  # fmt: skip
    event = LifecycleEvent.from_row(
        transition, {**ROW, "status": status, "url": url}, time="2026-11-25T01:02:03.000000Z"
    )
    deliver(event.to_cloudevent("/cp"), receiver.hook_url("kody"), settings)


def test_create_sends_the_callback_url(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("POST", "/api/cp/brainstems", accepted())
    result = twinctl("create", "kody", "--owner", "github:kody", "--callback-url", "https://hooks.example.com/t")
    assert result.exit_code == 0 and result.stdout == f"{JOB_ID}\n"
    [post] = stub.seen("POST", "/api/cp/brainstems")
    assert post.body == {"name": "kody", "owner": "github:kody", "callback_url": "https://hooks.example.com/t"}


def test_events_prints_what_the_sandbox_received(twinctl: Twinctl, receiver: EventReceiver) -> None:
    send(receiver, Transition.ACCEPTED, "provisioning")
    send(receiver, Transition.ACTIVE, "active", ROW["url"])
    result = twinctl("events", "--feed", receiver.feed_url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2026-11-25T01:02:03.000000Z  accepted  twin-kody-e89834  (via callback:kody)",
        "2026-11-25T01:02:03.000000Z  active    twin-kody-e89834  https://twin-kody-e89834.azurewebsites.net  (via callback:kody)",
    ]
    as_json = twinctl("events", "--feed", receiver.feed_url, "--json")
    assert [json.loads(line)["id"] for line in as_json.stdout.splitlines()] == [
        "b" * 32 + ".accepted",
        "b" * 32 + ".active",
    ]


def test_events_says_when_the_feed_is_not_there(twinctl: Twinctl) -> None:
    result = twinctl("events", "--feed", "http://127.0.0.1:9/events")
    assert_error(
        result, 6, "cannot reach the event feed at http://127.0.0.1:9/events (ConnectionError); is `make run` up?"
    )
