"""provision_brainstem, one slice of history at a time: what it asks for next, and how it ends."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from controlplane.domain.jobs import BrainstemJob, Policy
from tests.orchestrators.history_builder import History, booking_for

POLICY = Policy(
    first_retry_seconds=2,
    max_attempts=3,
    readiness_timeout_seconds=60,
    probe_interval_seconds=10,
    teardown_poll_seconds=15,
    teardown_timeout_seconds=600,
)
JOB = BrainstemJob(
    job_id="0" * 32, cloud_id="twin-kody-e89834", name="kody", owner="github:kody", region="eastus2",
    runtime_target="azure-consumption-py311", deploy_ref="main", subscription_id="sub", policy=POLICY,
).to_input()  # fmt: skip
URL = "https://twin-kody-e89834.azurewebsites.net/"


def built(*, probes: list[dict[str, Any]] | None = None) -> History:
    history = History("provision_brainstem", JOB)
    history.arm_step("ensure_resource_group", JOB, {"id": "/subscriptions/sub/resourceGroups/rg-twin-kody-e89834"})
    history.arm_step("ensure_storage_account", JOB, {"id": "st"})
    history.arm_step("ensure_function_app", JOB, {"id": "site"})
    for probe in probes or []:
        history.activity("probe_brainstem", JOB, probe)
        if not probe.get("ready"):
            history.timer(POLICY.probe_interval_seconds)
    return history


def test_a_fresh_instance_asks_for_the_resource_group_first() -> None:
    replay = History("provision_brainstem", JOB).replay()

    assert not replay.done
    # Its first request is booked in the fleet-wide ARM budget before the step may run.
    assert replay.scheduled() == [("reserve_arm_writes", booking_for("ensure_resource_group", JOB))]
    assert replay.custom_status == {"step": "resource_group", "cloud_id": JOB["cloud_id"]}


@pytest.mark.parametrize(
    ("done_steps", "next_activity", "step"),
    [
        (1, ("reserve_arm_writes", booking_for("ensure_storage_account", JOB)), "storage_account"),
        (2, ("reserve_arm_writes", booking_for("ensure_function_app", JOB)), "function_app"),
        (3, ("probe_brainstem", JOB), "readiness"),
    ],
)
def test_each_build_step_follows_the_one_before(done_steps: int, next_activity: tuple[str, Any], step: str) -> None:
    history = History("provision_brainstem", JOB)
    for activity in ("ensure_resource_group", "ensure_storage_account", "ensure_function_app")[:done_steps]:
        history.arm_step(activity, JOB, {"id": activity})

    replay = history.replay()

    assert replay.scheduled()[-1] == next_activity
    assert replay.custom_status["step"] == step


def test_a_brainstem_not_yet_ready_is_probed_again_after_the_interval() -> None:
    history = built()
    history.activity("probe_brainstem", JOB, {"ready": False, "status": 503})

    replay = history.replay()

    assert not replay.done and replay.scheduled()[-1] == ("probe_brainstem", JOB)
    assert replay.custom_status == {"step": "readiness", "cloud_id": JOB["cloud_id"], "probes": 1, "last_status": 503}
    assert replay.timers() == ["2030-01-01T00:00:17.000000Z"]  # 7 s of steps, then the 10 s probe interval


def test_a_ready_brainstem_is_marked_active_and_the_job_ends_with_its_url() -> None:
    history = built(probes=[{"ready": False, "status": 503}, {"ready": True, "status": 200}])
    assert history.replay().scheduled()[-1] == ("mark_active", JOB)

    history.activity("mark_active", JOB, {"url": URL})
    replay = history.replay()

    assert replay.done
    assert replay.output == {"status": "active", "cloud_id": JOB["cloud_id"], "url": URL}
    assert replay.custom_status["step"] == "active"


def test_a_fenced_step_ends_quietly_as_cancelled() -> None:
    history = History("provision_brainstem", JOB)
    history.arm_step("ensure_resource_group", JOB, {"id": "rg"})
    history.arm_step("ensure_storage_account", JOB, {"fenced": True})

    replay = history.replay()

    # Done, and nothing asked for after the fenced step (the actions list every call so far).
    assert replay.done and [name for name, _ in replay.scheduled()] == [
        "reserve_arm_writes",
        "ensure_resource_group",
        "reserve_arm_writes",
        "ensure_storage_account",
    ]
    assert replay.output == {"status": "cancelled", "cloud_id": JOB["cloud_id"], "at_step": "storage_account"}


def test_a_permanent_step_error_records_it_on_the_row_before_failing() -> None:
    error = {"step": "function_app", "code": "QuotaExceeded", "message": "100 apps", "status": 409, "transient": False}
    history = History("provision_brainstem", JOB)
    history.arm_step("ensure_resource_group", JOB, {"id": "rg"})
    history.arm_step("ensure_storage_account", JOB, {"id": "st"})
    history.arm_step("ensure_function_app", JOB, {"error": error})

    replay = history.replay()

    assert not replay.done
    [(name, payload)] = replay.scheduled()[-1:]
    assert name == "mark_errored" and payload["job"] == JOB and payload["error"]["code"] == "QuotaExceeded"
    assert replay.custom_status == {
        "step": "errored", "cloud_id": JOB["cloud_id"], "failed_step": "function_app", "code": "QuotaExceeded",
    }  # fmt: skip


def test_a_transient_failure_is_retried_after_the_policy_interval() -> None:
    history = History("provision_brainstem", JOB)
    history.activity("reserve_arm_writes", booking_for("ensure_resource_group", JOB), {})
    step_input = {**JOB, "arm_grant": None}
    history.activity_failed("ensure_resource_group", step_input, "ServiceUnavailable", retry_after_seconds=2)

    replay = history.replay()

    assert not replay.done
    assert replay.scheduled()[-1] == ("ensure_resource_group", step_input)


GRANT = {"subscription_id": "sub", "bucket": "writes", "count": 1, "stale_at": 1.0}


def test_a_step_booked_for_later_waits_on_a_durable_timer_then_runs_with_its_grant() -> None:
    history = History("provision_brainstem", JOB)
    history.activity(
        "reserve_arm_writes", booking_for("ensure_resource_group", JOB),
        {"not_before": "2030-01-01T00:05:00+00:00", "grant": GRANT},
    )  # fmt: skip

    replay = history.replay()

    # No activity waits for the budget: the orchestration sleeps on a timer until the requests are due.
    assert [name for name, _ in replay.scheduled()] == ["reserve_arm_writes"]
    assert replay.timers() == ["2030-01-01T00:05:00.000000Z"]
    history.timer(299)
    assert history.replay().scheduled()[-1] == ("ensure_resource_group", {**JOB, "arm_grant": GRANT})


def test_a_step_booked_for_now_runs_at_once() -> None:
    history = History("provision_brainstem", JOB)
    history.activity(
        "reserve_arm_writes", booking_for("ensure_resource_group", JOB),
        {"not_before": "2029-12-31T23:59:00+00:00", "grant": GRANT},
    )  # fmt: skip

    replay = history.replay()

    assert replay.timers() == [] and replay.scheduled()[-1] == ("ensure_resource_group", {**JOB, "arm_grant": GRANT})


def test_a_lane_booked_past_its_horizon_asks_again_when_told() -> None:
    history = History("provision_brainstem", JOB)
    history.activity(
        "reserve_arm_writes", booking_for("ensure_resource_group", JOB), {"retry_at": "2030-01-01T01:00:00+00:00"}
    )
    assert history.replay().timers() == ["2030-01-01T01:00:00.000000Z"]

    history.timer(3599)
    replay = history.replay()

    assert [name for name, _ in replay.scheduled()] == ["reserve_arm_writes", "reserve_arm_writes"]


def test_a_budget_that_cannot_be_reached_fails_the_step_as_itself() -> None:
    history = History("provision_brainstem", JOB)
    booking = booking_for("ensure_resource_group", JOB)
    for _ in range(POLICY.max_attempts - 1):
        history.activity_failed("reserve_arm_writes", booking, "ServiceUnavailable", retry_after_seconds=2)
    history.activity_failed("reserve_arm_writes", booking, "ServiceUnavailable", retry_after_seconds=0)

    replay = history.replay()

    [(name, payload)] = replay.scheduled()[-1:]
    assert name == "mark_errored" and payload["error"]["step"] == "resource_group"


def test_the_job_input_round_trips() -> None:
    assert BrainstemJob.from_input(JOB).to_input() == JOB and asdict(POLICY) == JOB["policy"]
