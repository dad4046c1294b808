"""Lifecycle events through the real orchestrations: one CloudEvent per transition, to each sink."""

from __future__ import annotations

from controlplane.registry import default_registry
from sandbox.events import EventReceiver
from tests.workflows.twin_jobs import provision, teardown

KODY = "twin-kody-e89834"


def test_each_transition_reaches_the_topic_and_the_callback_once(make_rig) -> None:  # type: ignore[no-untyped-def]
    receiver = EventReceiver()
    rig = make_rig(events=receiver)
    result = provision(rig, "kody", callback_url=receiver.hook_url("kody"))
    assert result.status == "Completed", result.error
    assert teardown(rig, KODY).status == "Completed"
    for via in ("eventgrid", "callback:kody"):
        types = [e["type"] for e in receiver.events(via)]
        assert types == [f"dev.twinstack.brainstem.{t}" for t in ("accepted", "active", "deleting", "deleted")], via
    active = receiver.events("callback:kody", type="dev.twinstack.brainstem.active")[0]
    assert active["subject"] == KODY and active["data"]["url"] == result.output["url"]
    assert receiver.refused == []
    assert default_registry().undelivered_events.list(KODY) == []
