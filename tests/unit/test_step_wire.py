"""The typed hand-offs between orchestrators and activities write exactly the JSON the dicts did.

Durable keeps every activity input and output in an orchestration's history and replays from it, and
an activity may receive an input scheduled by the code deployed before: so each type's JSON is pinned
here, key for key and in order, to the shape the dicts had (controlplane.domain.step_results,
step_outputs, step_requests, loop_messages), and reads back to the same value.
"""

from __future__ import annotations

from typing import Any

import pytest

from controlplane.domain.events import LifecycleEvent, Transition
from controlplane.domain.jobs import Policy, TwinJob
from controlplane.domain.loop_messages import AdoptOutcome, HeartbeatPage, HeartbeatState, MissingTwin
from controlplane.domain.step_errors import StepError
from controlplane.domain.step_outputs import (
    Activated,
    Begun,
    Following,
    OperationBegun,
    OperationState,
    Probe,
    PublishOutcome,
)  # fmt: skip
from controlplane.domain.step_requests import (
    Booking,
    Delivered,
    ErrorRecord,
    EventDelivery,
    FinishApp,
    OperationPoll,
    PublishRequest,
)  # fmt: skip
from controlplane.domain.step_results import Fenced, StepErrored, result_from_json

POLICY = Policy(2, 3, 60, 10, 15, 600)
TWIN = TwinJob(
    job_id="0" * 32, cloud_id="twin-kody-e89834", name="kody", owner="github:kody", region="eastus2",
    runtime_target="azure-consumption-py311", deploy_ref="main", subscription_id="sub", policy=POLICY,
)  # fmt: skip
JOB = TWIN.to_input()
ERROR = {"step": "publish", "code": "Conflict", "message": "taken", "status": 409, "transient": False}
SEEN = {"deployment_id": "d1", "answered": True, "not_found": 0, "last_status": 202}


def _same(value: Any, wire: dict[str, Any]) -> None:
    """``value`` writes ``wire`` (keys in the same order) and reads back from it as itself."""
    written = value.to_json()
    assert written == wire and list(written) == list(wire)
    assert type(value).from_json(wire) == value


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (OperationBegun("https://op"), {"operation_url": "https://op"}),
        (Begun(None, ["A"]), {"operation_url": None, "settings": ["A"]}),
        (OperationState(True, True, "Oops", "no"), {"done": True, "failed": True, "code": "Oops", "message": "no"}),
        (PublishOutcome(True, "v2", package_sha256="ab"), {"done": True, "deploy_ref": "v2", "package_sha256": "ab"}),
        (
            PublishOutcome(False, "v2", deployment_id="d1", following=Following.from_dict(SEEN), poll_after_seconds=3),
            {"done": False, "deploy_ref": "v2", "deployment_id": "d1", "following": SEEN, "poll_after_seconds": 3},
        ),
        (Probe(False, None, "refused"), {"ready": False, "status": None, "reason": "refused"}),
        (Probe(True, 200, deploy_ref="v2"), {"ready": True, "status": 200, "deploy_ref": "v2"}),
        (Probe(False, 503), {"ready": False, "status": 503}),
        (Activated("https://u"), {"url": "https://u"}),
        (Activated("https://u", "v2"), {"url": "https://u", "deploy_ref": "v2"}),
        (OperationPoll(TWIN, "https://op"), {"job": JOB, "operation_url": "https://op"}),
        (
            OperationPoll(TWIN, "https://op", "function_app", "updating"),
            {"job": JOB, "operation_url": "https://op", "step": "function_app", "fence": "updating"},
        ),
        (FinishApp(TWIN, "provisioning"), {"job": JOB, "fence": "provisioning"}),
        (FinishApp(TWIN, "updating", "rollback"), {"job": JOB, "fence": "updating", "step": "rollback"}),
        (PublishRequest(TWIN, "provisioning"), {"job": JOB, "deployment_id": None, "fence": "provisioning"}),
        (
            PublishRequest(TWIN, "updating", Following.from_dict(SEEN)),
            {"job": JOB, "deployment_id": "d1", "fence": "updating", "following": SEEN},
        ),
        (ErrorRecord(TWIN, StepError(**ERROR)), {"job": JOB, "error": ERROR}),
        (ErrorRecord(TWIN, StepError(**ERROR), True), {"job": JOB, "error": ERROR, "rolled_back": True}),
        (Delivered(True, id="e1"), {"delivered": True, "id": "e1"}),
        (Delivered(False, skipped=True, reason="gone"), {"delivered": False, "skipped": True, "reason": "gone"}),
        (HeartbeatPage(1, 1, 0, "k"), {"next": "k", "probed": 1, "answered": 1, "stale": 0}),
        (MissingTwin(TWIN, {"code": "MissingInAzure"}), {**JOB, "error": {"code": "MissingInAzure"}}),
        (AdoptOutcome("twin-a", skipped="already has a row"), {"cloud_id": "twin-a", "skipped": "already has a row"}),
        (
            AdoptOutcome("twin-a", status="active", owner="github:a"),
            {"cloud_id": "twin-a", "status": "active", "owner": "github:a", "error": None},
        ),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, dict) else "",
)
def test_each_message_writes_the_json_its_dict_did(value: Any, wire: dict[str, Any]) -> None:
    _same(value, wire)


def test_a_step_result_is_fenced_errored_or_the_steps_own_output() -> None:
    assert Fenced().to_json() == {"fenced": True}
    assert StepErrored(StepError(**ERROR)).to_json() == {"error": ERROR}
    assert result_from_json({"fenced": True}, Probe) == Fenced()
    assert result_from_json({"error": ERROR}, Probe) == StepErrored(StepError(**ERROR))
    # A step error recorded before ``status``/``transient`` existed still reads (their defaults).
    short = {"step": "names", "code": "NameTaken", "message": "held elsewhere"}
    assert result_from_json({"error": short}, Probe) == StepErrored(StepError("names", "NameTaken", "held elsewhere"))
    assert result_from_json({"ready": True, "status": 200}, Probe) == Probe(True, 200)
    with pytest.raises(TypeError):
        result_from_json("Completed", Probe)


def test_the_budgets_answer_keeps_its_three_shapes() -> None:
    grant = {"subscription_id": "sub", "bucket": "writes", "count": 1, "stale_at": 1.0}
    assert Booking().to_json() == {}
    assert Booking(retry_at="2026-12-07T13:00:00+00:00").to_json() == {"retry_at": "2026-12-07T13:00:00+00:00"}
    assert Booking(not_before=None, grant=grant).to_json() == {"not_before": None, "grant": grant}
    assert Booking.from_json({"not_before": None, "grant": grant}) == Booking(grant=grant)


def test_an_event_delivery_and_a_heartbeats_state_read_back() -> None:
    event = LifecycleEvent(Transition.ACTIVE, TWIN.cloud_id, "2026-12-07T13:00:00.000000Z", {"status": "active"})
    delivery = EventDelivery("callback", event, "https://hook")
    assert delivery.to_json() == {"sink": "callback", "event": event.to_input(), "callback_url": "https://hook"}
    assert EventDelivery.from_json(delivery.to_json()) == delivery
    policy = {"first_retry_seconds": 2, "max_attempts": 3, "readiness_timeout_seconds": 60,
              "probe_interval_seconds": 10, "teardown_poll_seconds": 15, "teardown_timeout_seconds": 600,
              "publish_timeout_seconds": 900.0, "operation_poll_seconds": 5.0, "deployment_poll_seconds": 5.0}  # fmt: skip
    first = HeartbeatState(POLICY)
    assert first.to_json() == {"policy": policy} and HeartbeatState.from_json({"policy": policy}) == first
    carried = {"policy": policy, "probed": 3, "answered": 2, "stale": 1, "next": "k"}
    assert list(HeartbeatState.from_json(carried).to_json()) == list(carried)
    assert HeartbeatState.from_json(carried).to_json() == carried
