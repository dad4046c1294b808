"""A rollout control that loses the race with the rollout's end is a 409 problem, never a 500.

The race is forced, not waited for: the rollout is parked on its poll timer (a clock that holds
timers), and the Durable stand-in ends the instance at the moment the product raises its control
event -- after the product has read the rollout's record and found it running. The extension then
answers 410 Gone (HttpApiHandler.cs ``HandleRaiseEventRequestAsync``), the SDK raises, and the
product must turn that into a problem.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from controlplane.domain.errors import RolloutNotRunning
from controlplane.domain.rollouts import RolloutStatus
from controlplane.registry import default_registry
from sandbox.durable.clock import VirtualClock
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api

TIMER_CREATED = 10


class HoldingClock(VirtualClock):
    """A virtual clock that, once ``hold()`` is called, keeps every newly armed timer until ``release()``."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = False
        self.held: list[tuple[dt.datetime, Callable[[], None]]] = []
        self._held_lock = threading.Lock()

    def hold(self) -> None:
        self.holding = True

    def call_at(self, when: dt.datetime, callback: Callable[[], None]) -> None:
        with self._held_lock:
            if self.holding:
                self.held.append((when, callback))
                return
        super().call_at(when, callback)

    def release(self) -> None:
        with self._held_lock:
            self.holding, held, self.held = False, self.held, []
        for when, callback in held:
            super().call_at(when, callback)


def parked_on_a_timer(rig: ControlPlaneRig, instance_id: str, timeout: float = 60) -> None:
    """Wait (no timing asserted) until the instance's history ends waiting on a timer the clock holds."""
    assert rig.driver is not None
    deadline = time.monotonic() + timeout
    while True:
        history = rig.driver.get_status(instance_id).history
        if any(event.get("EventType") == TIMER_CREATED for event in history):
            return
        assert time.monotonic() < deadline, f"{instance_id} never armed its poll timer"
        time.sleep(0.02)


@pytest.fixture
def held(make_rig: Callable[..., ControlPlaneRig]) -> tuple[Api, HoldingClock]:
    clock = HoldingClock()
    api = Api(make_rig(clock=clock))
    api.wait(api.post({"name": "kody", "owner": "github:a"}).json["job_id"])  # an active twin to roll
    return api, clock


def end_the_instance_before_the_event(rig: ControlPlaneRig, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the Durable stand-in end the instance just before it takes an event (the race, forced)."""
    driver = rig.driver
    assert driver is not None
    deliver = driver.raise_event
    ended: list[str] = []

    def raise_event_after_the_end(instance_id: str, event_name: str, data: Any = None) -> None:
        driver.terminate(instance_id, "ended between the product's read and its event")
        driver.wait(instance_id)
        ended.append(instance_id)
        deliver(instance_id, event_name, data)  # now Terminated: InstanceNotRunningError -> 410 Gone

    monkeypatch.setattr(driver, "raise_event", raise_event_after_the_end)
    return ended


@pytest.mark.parametrize("action", ["pause", "resume", "abort"])
def test_a_control_on_a_rollout_that_ends_meanwhile_is_a_409(
    held: tuple[Api, HoldingClock], monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    api, clock = held
    clock.hold()
    started = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2"})
    assert started.status == 202, started.body
    rollout_id = started.json["rollout_id"]
    parked_on_a_timer(api.rig, rollout_id)
    assert api.request("GET", f"/api/cp/rollouts/{rollout_id}").json["status"] == "running"

    ended = end_the_instance_before_the_event(api.rig, monkeypatch)
    answer = api.request("POST", f"/api/cp/rollouts/{rollout_id}/{action}")

    assert ended == [rollout_id]  # the race did happen: the record said running, the instance had ended
    assert answer.status == 409, answer.body
    assert answer.json["type"].endswith("rollout-not-running") and rollout_id in answer.json["detail"]
    clock.release()


def test_a_control_on_a_rollout_whose_orchestration_is_gone_is_a_409(
    held: tuple[Api, HoldingClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record says running, but the extension has no such instance (purged): 404 from it, 409 from us."""
    api, clock = held
    clock.hold()
    rollout_id = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2"}).json["rollout_id"]
    parked_on_a_timer(api.rig, rollout_id)
    driver = api.rig.driver
    assert driver is not None
    driver.terminate(rollout_id, "to be purged")
    driver.wait(rollout_id)
    driver.purge(rollout_id)
    answer = api.request("POST", f"/api/cp/rollouts/{rollout_id}/pause")
    assert answer.status == 409, answer.body
    assert "no orchestration" in answer.json["detail"]
    clock.release()


def test_the_control_is_refused_under_the_records_etag_once_the_rollout_ended(
    held: tuple[Api, HoldingClock],
) -> None:
    """A rollout that ends between the product's read and its write of the control is never steered."""
    api, _ = held
    rollout_id = api.request("POST", "/api/cp/rollouts", json_body={"deploy_ref": "v2"}).json["rollout_id"]
    assert api.rig.driver is not None
    api.rig.driver.wait(rollout_id, timeout=60)
    rollouts = default_registry().rollouts
    assert rollouts.get(rollout_id)["status"] == RolloutStatus.COMPLETED.value
    with pytest.raises(RolloutNotRunning):
        rollouts.set_control(rollout_id, "pause")
    assert rollouts.get(rollout_id)["control"] == "run"
