"""provision_brainstem, one slice of history at a time: what it asks for next, and how it ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import pytest

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.jobs import Policy, TwinJob
from orchestrators.steps import retry_delay
from tests.orchestrators.history_builder import History, booking_for, step_input

POLICY = Policy(
    first_retry_seconds=2,
    max_attempts=3,
    readiness_timeout_seconds=60,
    probe_interval_seconds=10,
    teardown_poll_seconds=15,
    teardown_timeout_seconds=600,
)
JOB = TwinJob(
    job_id="0" * 32, cloud_id="twin-kody-e89834", name="kody", owner="github:kody", region="eastus2",
    runtime_target="azure-consumption-py311", deploy_ref="main", subscription_id="sub", policy=POLICY,
).to_input()  # fmt: skip
URL = "https://twin-kody-e89834.azurewebsites.net/"
GRANT = {"subscription_id": "sub", "bucket": "writes", "count": 1, "stale_at": 1.0}


# (activity, what it takes beside the job): the function app is its plan, its site, then finish_function_app.
BUILD: tuple[tuple[str, dict[str, Any] | None], ...] = (
    (Activity.CHECK_NAMES, None), (Activity.ENSURE_RESOURCE_GROUP, None), (Activity.ENSURE_STORAGE_ACCOUNT, None),
    (Activity.ENSURE_FUNCTION_PLAN, None), (Activity.BEGIN_FUNCTION_SITE, None), (Activity.FINISH_FUNCTION_APP, {"fence": "provisioning"}),
)  # fmt: skip
PUBLISH = {"deployment_id": None, "fence": "provisioning"}  # what publish_code takes beside the job


def built(*, probes: list[dict[str, Any]] | None = None) -> History:
    """Names checked, resources made, code published; then ``probes`` answers, each not-ready one followed by
    the orchestration's back-off timer (1 s, doubling up to the policy's probe interval)."""
    history = History(Orchestration.PROVISION, JOB)
    for activity, beside in BUILD:
        history.build_step(activity, JOB, {"id": activity}, beside=beside)
    history.arm_step(Activity.PUBLISH_CODE, JOB, {"done": True}, beside=PUBLISH)
    delay = 1.0
    for probe in probes or []:
        history.activity(Activity.PROBE_BRAINSTEM, JOB, probe)
        if not probe.get("ready"):
            history.timer(min(delay, POLICY.probe_interval_seconds))
            delay *= 2
    return history


def test_a_fresh_instance_checks_the_global_names_first() -> None:
    replay = History(Orchestration.PROVISION, JOB).replay()

    assert not replay.done
    # Its first requests (two checkNameAvailability POSTs) are booked in the fleet-wide ARM budget first.
    assert replay.scheduled() == [(Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB))]
    assert booking_for(Activity.CHECK_NAMES, JOB)["count"] == 2
    assert replay.custom_status == {"step": "names", "cloud_id": JOB["cloud_id"]}


@pytest.mark.parametrize(
    ("done_steps", "next_activity", "step"),
    [
        (1, (Activity.RESERVE_ARM_WRITES, booking_for(Activity.ENSURE_RESOURCE_GROUP, JOB)), "resource_group"),
        (2, (Activity.RESERVE_ARM_WRITES, booking_for(Activity.ENSURE_STORAGE_ACCOUNT, JOB)), "storage_account"),
        (3, (Activity.RESERVE_ARM_WRITES, booking_for(Activity.ENSURE_FUNCTION_PLAN, JOB)), "function_app"),
        (4, (Activity.RESERVE_ARM_WRITES, booking_for(Activity.BEGIN_FUNCTION_SITE, JOB)), "function_app"),
        # Linux Consumption's finish sends no ARM write: nothing to book, it runs at once
        (5, (Activity.FINISH_FUNCTION_APP, step_input(JOB, None, {"fence": "provisioning"})), "function_app"),
        (6, (Activity.RESERVE_ARM_WRITES, booking_for(Activity.PUBLISH_CODE, JOB)), "publish"),
    ],
)
def test_each_build_step_follows_the_one_before(done_steps: int, next_activity: tuple[str, Any], step: str) -> None:
    history = History(Orchestration.PROVISION, JOB)
    for activity, beside in BUILD[:done_steps]:
        history.build_step(activity, JOB, {"id": activity}, beside=beside)

    replay = history.replay()

    assert replay.scheduled()[-1] == next_activity
    assert replay.custom_status["step"] == step


def test_the_code_is_published_with_its_grant_and_then_the_readiness_route_is_asked() -> None:
    history = History(Orchestration.PROVISION, JOB)
    for activity, beside in BUILD:
        history.build_step(activity, JOB, {"id": activity}, beside=beside)
    history.activity(Activity.RESERVE_ARM_WRITES, booking_for(Activity.PUBLISH_CODE, JOB), {"grant": GRANT})

    assert history.replay().scheduled()[-1] == (Activity.PUBLISH_CODE, step_input(JOB, GRANT, PUBLISH))

    history.activity(Activity.PUBLISH_CODE, step_input(JOB, GRANT, PUBLISH), {"done": True})
    replay = history.replay()

    assert replay.scheduled()[-1] == (Activity.PROBE_BRAINSTEM, JOB)
    assert replay.custom_status["step"] == "readiness"


def test_a_one_deploy_deployment_is_followed_without_booking_arm_writes() -> None:
    history = History(Orchestration.PROVISION, JOB)
    for activity, beside in BUILD:
        history.build_step(activity, JOB, {"id": activity}, beside=beside)
    started = {"deployment_id": "dep-1", "answered": False, "not_found": 0, "last_status": None}
    history.arm_step(
        Activity.PUBLISH_CODE, JOB, {"done": False, "deployment_id": "dep-1", "following": started}, beside=PUBLISH
    )

    # 13 s of steps, then the policy's deployment poll interval on a durable timer (no slot held meanwhile)
    assert history.replay().timers() == ["2030-01-01T00:00:18.000000Z"]
    history.timer(POLICY.deployment_poll_seconds)
    replay = history.replay()

    # Following the deployment asks the scm site, not ARM: no booking, what was seen travels beside the job.
    follow = {"job": JOB, "deployment_id": "dep-1", "fence": "provisioning", "following": started}
    assert replay.scheduled()[-1] == (Activity.PUBLISH_CODE, follow)


def test_what_a_deployment_poll_saw_travels_to_the_next_and_retry_after_is_honoured() -> None:
    history = History(Orchestration.PROVISION, JOB)
    for activity, beside in BUILD:
        history.build_step(activity, JOB, {"id": activity}, beside=beside)
    started = {"deployment_id": "dep-1", "answered": False, "not_found": 0, "last_status": None}
    history.arm_step(
        Activity.PUBLISH_CODE, JOB, {"done": False, "deployment_id": "dep-1", "following": started}, beside=PUBLISH
    )
    history.timer(POLICY.deployment_poll_seconds)
    # An early 404: the deployment is coming alive; the count travels so the next activity knows it.
    early = {**started, "not_found": 1}
    follow = {"job": JOB, "deployment_id": "dep-1", "fence": "provisioning"}
    history.activity(Activity.PUBLISH_CODE, {**follow, "following": started}, {"done": False, "following": early})
    history.timer(POLICY.deployment_poll_seconds)
    assert history.replay().scheduled()[-1] == (Activity.PUBLISH_CODE, {**follow, "following": early})

    # Building, and the scm site asks for 7 s: the next request waits 7 s, not the policy's interval.
    building = {**started, "answered": True, "last_status": 1}
    answer = {"done": False, "following": building, "poll_after_seconds": 7}
    history.activity(Activity.PUBLISH_CODE, {**follow, "following": early}, answer)
    replay = history.replay()
    assert replay.timers()[-1] == (history.now + dt.timedelta(seconds=7)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    history.timer(7)
    assert history.replay().scheduled()[-1] == (Activity.PUBLISH_CODE, {**follow, "following": building})
    assert history.replay().custom_status == {
        "step": "publish", "cloud_id": JOB["cloud_id"], "deployment": "dep-1", "status": 1,
    }  # fmt: skip


def test_a_brainstem_not_yet_ready_is_probed_again_soon_then_at_the_interval() -> None:
    history = built()
    history.activity(Activity.PROBE_BRAINSTEM, JOB, {"ready": False, "status": 404})

    replay = history.replay()

    assert not replay.done and replay.scheduled()[-1] == (Activity.PROBE_BRAINSTEM, JOB)
    assert replay.custom_status == {"step": "readiness", "cloud_id": JOB["cloud_id"], "probes": 1, "last_status": 404}
    assert replay.timers() == ["2030-01-01T00:00:15.000000Z"]  # 14 s of steps and a probe, then 1 s

    # The back-off doubles (1, 2, 4, 8 s) and stops at the policy's probe interval (10 s).
    history = built(probes=[{"ready": False, "status": 404}] * 5)
    history.activity(Activity.PROBE_BRAINSTEM, JOB, {"ready": False, "status": 404})
    # 13 s of steps, six 1 s probes and 25 s of back-off so far (1+2+4+8+10), then the 10 s interval again
    assert history.replay().timers()[-1] == "2030-01-01T00:00:54.000000Z"


def test_a_twin_that_runs_another_deploy_ref_is_not_ready_when_the_timeout_passes() -> None:
    history = built(probes=[{"ready": False, "status": 200, "deploy_ref": "old"}] * 8)
    history.activity(Activity.PROBE_BRAINSTEM, JOB, {"ready": False, "status": 200, "deploy_ref": "old"})

    replay = history.replay()

    [(name, payload)] = replay.scheduled()[-1:]
    assert name == Activity.MARK_ERRORED and payload["error"]["code"] == "NotReady"
    assert "it runs old, not main" in payload["error"]["message"]


def test_a_ready_brainstem_is_marked_active_and_the_job_ends_with_its_url() -> None:
    history = built(probes=[{"ready": False, "status": 503}, {"ready": True, "status": 200}])
    assert history.replay().scheduled()[-1] == (Activity.MARK_ACTIVE, JOB)

    history.activity(Activity.MARK_ACTIVE, JOB, {"url": URL})
    replay = history.replay()

    assert replay.done
    assert replay.output == {"status": "active", "cloud_id": JOB["cloud_id"], "url": URL}
    assert replay.custom_status["step"] == "active"


def test_a_fenced_step_ends_quietly_as_cancelled() -> None:
    history = History(Orchestration.PROVISION, JOB)
    history.arm_step(Activity.CHECK_NAMES, JOB, {"available": True})
    history.arm_step(Activity.ENSURE_RESOURCE_GROUP, JOB, {"id": "rg"})
    history.arm_step(Activity.ENSURE_STORAGE_ACCOUNT, JOB, {"fenced": True})

    replay = history.replay()

    # Done, and nothing asked for after the fenced step (the actions list every call so far).
    assert replay.done and [name for name, _ in replay.scheduled()] == [
        Activity.RESERVE_ARM_WRITES,
        Activity.CHECK_NAMES,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_RESOURCE_GROUP,
        Activity.RESERVE_ARM_WRITES,
        Activity.ENSURE_STORAGE_ACCOUNT,
    ]
    assert replay.output == {"status": "cancelled", "cloud_id": JOB["cloud_id"], "at_step": "storage_account"}


def test_a_permanent_step_error_records_it_on_the_row_before_failing() -> None:
    error = {"step": "function_app", "code": "QuotaExceeded", "message": "100 apps", "status": 409, "transient": False}
    history = History(Orchestration.PROVISION, JOB)
    for activity, _ in BUILD[:3]:
        history.arm_step(activity, JOB, {"id": activity})
    history.arm_step(Activity.ENSURE_FUNCTION_PLAN, JOB, {"error": error})

    replay = history.replay()

    assert not replay.done
    [(name, payload)] = replay.scheduled()[-1:]
    assert name == Activity.MARK_ERRORED and payload["job"] == JOB and payload["error"]["code"] == "QuotaExceeded"
    assert replay.custom_status == {
        "step": "errored", "cloud_id": JOB["cloud_id"], "failed_step": "function_app", "code": "QuotaExceeded",
    }  # fmt: skip


def test_a_transient_failure_waits_the_policy_interval_then_books_again() -> None:
    history = History(Orchestration.PROVISION, JOB)
    history.activity(Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB), {"grant": GRANT})
    # The attempt fails (say its grant went stale and the budget was too far behind to pay inline)...
    history.activity_failed(Activity.CHECK_NAMES, step_input(JOB, GRANT), "ServiceUnavailable", retry_after_seconds=2)

    replay = history.replay()

    # ...so after the policy's first interval the step is booked afresh, never retried on the old grant.
    assert not replay.done
    assert replay.scheduled()[-1] == (Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB))
    fresh = {**GRANT, "stale_at": 9.0}
    history.activity(Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB), {"grant": fresh})
    assert history.replay().scheduled()[-1] == (Activity.CHECK_NAMES, step_input(JOB, fresh))


def test_a_step_that_keeps_failing_is_recorded_after_the_policys_attempts() -> None:
    history = History(Orchestration.PROVISION, JOB)
    for attempt in range(POLICY.max_attempts):
        history.activity(Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB), {})
        last = attempt == POLICY.max_attempts - 1
        wait = None if last else retry_delay(POLICY, attempt + 1)  # 2 s, then 4 s (orchestrators.steps)
        history.activity_failed(Activity.CHECK_NAMES, step_input(JOB), "ServiceUnavailable", retry_after_seconds=wait)

    [(name, payload)] = history.replay().scheduled()[-1:]

    assert name == Activity.MARK_ERRORED and payload["error"]["step"] == "names"


def test_a_step_booked_for_later_waits_on_a_durable_timer_then_runs_with_its_grant() -> None:
    history = History(Orchestration.PROVISION, JOB)
    history.activity(
        Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB),
        {"not_before": "2030-01-01T00:05:00+00:00", "grant": GRANT},
    )  # fmt: skip

    replay = history.replay()

    # No activity waits for the budget: the orchestration sleeps on a timer until the requests are due.
    assert [name for name, _ in replay.scheduled()] == [Activity.RESERVE_ARM_WRITES]
    assert replay.timers() == ["2030-01-01T00:05:00.000000Z"]
    history.timer(299)
    assert history.replay().scheduled()[-1] == (Activity.CHECK_NAMES, {**JOB, "arm_grant": GRANT})


def test_a_step_booked_for_now_runs_at_once() -> None:
    history = History(Orchestration.PROVISION, JOB)
    history.activity(
        Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB),
        {"not_before": "2029-12-31T23:59:00+00:00", "grant": GRANT},
    )  # fmt: skip

    replay = history.replay()

    assert replay.timers() == [] and replay.scheduled()[-1] == (Activity.CHECK_NAMES, {**JOB, "arm_grant": GRANT})


def test_a_lane_booked_past_its_horizon_asks_again_when_told() -> None:
    history = History(Orchestration.PROVISION, JOB)
    history.activity(
        Activity.RESERVE_ARM_WRITES, booking_for(Activity.CHECK_NAMES, JOB), {"retry_at": "2030-01-01T01:00:00+00:00"}
    )
    assert history.replay().timers() == ["2030-01-01T01:00:00.000000Z"]

    history.timer(3599)
    replay = history.replay()

    assert [name for name, _ in replay.scheduled()] == [Activity.RESERVE_ARM_WRITES, Activity.RESERVE_ARM_WRITES]


def test_a_budget_that_cannot_be_reached_fails_the_step_as_itself() -> None:
    history = History(Orchestration.PROVISION, JOB)
    booking = booking_for(Activity.CHECK_NAMES, JOB)
    for _ in range(POLICY.max_attempts - 1):
        history.activity_failed(Activity.RESERVE_ARM_WRITES, booking, "ServiceUnavailable", retry_after_seconds=2)
    history.activity_failed(Activity.RESERVE_ARM_WRITES, booking, "ServiceUnavailable", retry_after_seconds=0)

    replay = history.replay()

    [(name, payload)] = replay.scheduled()[-1:]
    assert name == Activity.MARK_ERRORED and payload["error"]["step"] == "names"


def test_the_job_input_round_trips() -> None:
    assert TwinJob.from_input(JOB).to_input() == JOB and asdict(POLICY) == JOB["policy"]
