"""Lifecycle events through the real orchestrations: one CloudEvent per transition, to each sink.

The receiver is the sandbox's Event Grid topic stand-in and webhook receiver (sandbox/events): it
checks every event against the CloudEvents spec and every callback's signature, so a passing test
means the events are valid as delivered, not only as built.
"""

from __future__ import annotations

import logging

import pytest

from controlplane.arm import resource_groups
from controlplane.arm.clients import arm_clients
from controlplane.arm.storage_accounts import storage_account_body
from controlplane.domain.durable_names import Orchestration
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from sandbox.arm import Fault
from sandbox.durable import check_replay_safety
from sandbox.events import EventReceiver
from sandbox.rig import ControlPlaneRig, product_driver
from tests.workflows.twin_jobs import accept_twin, assert_never_recorded, provision, teardown

KODY = "twin-kody-e89834"
TYPE = "dev.twinstack.brainstem."


@pytest.fixture
def receiver() -> EventReceiver:
    return EventReceiver()


@pytest.fixture
def events_rig(make_rig, receiver: EventReceiver) -> ControlPlaneRig:  # type: ignore[no-untyped-def]
    # An ARM budget that never makes a step wait: the replay check runs the same twin fifty times in
    # one subscription, and a wait would move the time of the events it compares between runs.
    budget = {"CP_ARM_WRITES_PER_SECOND": "10000", "CP_ARM_WRITE_BURST": "100000"}
    rig: ControlPlaneRig = make_rig(events=receiver, settings=budget)
    return rig


def types(receiver: EventReceiver, via: str) -> list[str]:
    return [e["type"].removeprefix(TYPE) for e in receiver.events(via)]


def test_each_transition_reaches_the_topic_and_the_callback_once(
    events_rig: ControlPlaneRig, receiver: EventReceiver
) -> None:
    result = provision(events_rig, "kody", callback_url=receiver.hook_url("kody"))
    assert result.status == "Completed", result.error
    assert teardown(events_rig, KODY).status == "Completed"
    for via in ("eventgrid", "callback:kody"):
        assert types(receiver, via) == ["accepted", "active", "deleting", "deleted"], via
    active = receiver.events("callback:kody", type=TYPE + "active")[0]
    row = default_registry().get(KODY)
    assert active["subject"] == KODY and active["data"]["url"] == result.output["url"]
    assert active["id"] == f"{result.instance_id}.active"  # the job id and the transition
    assert receiver.refused == []
    assert default_registry().undelivered_events.list(KODY) == []
    assert row.status == Status.DELETED


def test_a_twin_without_a_callback_goes_to_the_topic_only(events_rig: ControlPlaneRig, receiver: EventReceiver) -> None:
    assert provision(events_rig, "kody").status == "Completed"
    assert types(receiver, "eventgrid") == ["accepted", "active"]
    assert [r.via for r in receiver.received()] == ["eventgrid", "eventgrid"]


def test_a_failed_step_is_told_as_errored_with_its_cause(events_rig: ControlPlaneRig, receiver: EventReceiver) -> None:
    events_rig.arm.inject(Fault(route="server_farms.create_or_update", kind="409", times=None))
    result = provision(events_rig, "kody", callback_url=receiver.hook_url("kody"))
    assert result.status == "Failed"
    assert types(receiver, "callback:kody") == ["accepted", "errored"]
    errored = receiver.events("callback:kody", type=TYPE + "errored")[0]
    assert errored["data"]["status"] == "errored" and errored["data"]["url"] is None
    assert errored["data"]["error"]["step"] == "function_app"


def test_a_dead_receiver_never_fails_the_twin_and_the_miss_is_recorded(
    events_rig: ControlPlaneRig, receiver: EventReceiver
) -> None:
    receiver.answers["dead"] = [503] * 100
    result = provision(events_rig, "kody", callback_url=receiver.hook_url("dead"))
    assert result.status == "Completed", result.error
    assert default_registry().get(KODY).status == Status.ACTIVE
    assert types(receiver, "eventgrid") == ["accepted", "active"]  # the other sink is unaffected
    assert receiver.events("callback:dead") == []
    attempts = [r for r in receiver.refused if r[0] == "/hooks/dead"]
    assert len(attempts) == 2 * 3  # each event tried CP_ACTIVITY_MAX_ATTEMPTS (3 in the rig) times, with back-off
    missed = default_registry().undelivered_events.list(KODY)
    assert sorted(m["type"].removeprefix(TYPE) for m in missed) == ["accepted", "active"]
    assert {m["sink"] for m in missed} == {"callback"} and all("503" in m["reason"] for m in missed)


def test_a_receiver_that_comes_back_gets_the_event_on_a_retry(
    events_rig: ControlPlaneRig, receiver: EventReceiver
) -> None:
    receiver.answers["flaky"] = [503, 429]
    assert provision(events_rig, "kody", callback_url=receiver.hook_url("flaky")).status == "Completed"
    assert types(receiver, "callback:flaky") == ["accepted", "active"]
    assert default_registry().undelivered_events.list(KODY) == []


def test_a_redirect_is_never_followed(events_rig: ControlPlaneRig, receiver: EventReceiver) -> None:
    receiver.redirects["sly"] = "https://169.254.169.254/metadata/identity/oauth2/token"
    result = provision(events_rig, "kody", callback_url=receiver.hook_url("sly"))
    assert result.status == "Completed", result.error
    # A redirect is final: one attempt per event, nothing fetched from where it pointed, the miss recorded.
    assert [r[1] for r in receiver.refused] == [302, 302]
    missed = default_registry().undelivered_events.list(KODY)
    assert len(missed) == 2 and all("redirect" in m["reason"] for m in missed)


def test_replays_and_crashes_repeat_the_same_ids(events_rig: ControlPlaneRig, receiver: EventReceiver) -> None:
    job = accept_twin("kody", callback_url=receiver.hook_url("kody"))
    registry = default_registry()

    def fresh_row() -> None:
        # The same world for every run, as the budget above: the twin's storage account exists already
        # (made through the real SDK), so every run's PUT answers 200 and no run waits for a create;
        # a wait would move the time of the events compared between runs.
        names, clients = twin_names("kody"), arm_clients(job["subscription_id"])
        resource_groups.ensure_resource_group(clients, names, region=job["region"], tags={})
        body = storage_account_body(job["region"], {})
        clients.storage.storage_accounts.begin_create(names.resource_group, names.storage_account, body).result()  # type: ignore[call-overload]
        registry.update(KODY, lambda row: row.with_changes(status=Status.PROVISIONING, url=None))

    cases = check_replay_safety(
        product_driver,
        Orchestration.PROVISION, job, instance_id=job["job_id"], before_each_run=fresh_row, timeout=30,
    )  # fmt: skip
    assert len(cases) >= 15
    delivered = receiver.events("callback:kody")
    assert len(delivered) > 2  # at least once: crashed episodes delivered again ...
    assert {e["id"] for e in delivered} == {f"{job['job_id']}.accepted", f"{job['job_id']}.active"}  # ... same ids
    assert len({(e["id"], e["time"], str(e["data"])) for e in delivered}) == 2  # and the same events


def test_the_signing_key_is_never_recorded(
    events_rig: ControlPlaneRig, receiver: EventReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.answers["kody"] = [500]
    result = provision(events_rig, "kody", callback_url=receiver.hook_url("kody"))
    assert result.status == "Completed", result.error
    key = receiver.signing_key
    assert_never_recorded([key, key.removeprefix("whsec_")], result, caplog.records)
