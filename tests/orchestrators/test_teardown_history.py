"""teardown_brainstem, one slice of history at a time: wait for provisioning, delete, verify, record."""

from __future__ import annotations

from dataclasses import replace

from controlplane.domain.jobs import BrainstemJob
from orchestrators.steps import FUNCTION_TIMEOUT_SECONDS
from tests.orchestrators.history_builder import History, booking_for
from tests.orchestrators.test_provision_history import JOB as PROVISION_JOB
from tests.orchestrators.test_provision_history import POLICY

PREVIOUS = "1" * 32
JOB = replace(BrainstemJob.from_input(PROVISION_JOB), job_id="2" * 32, previous_job_id=PREVIOUS).to_input()
OPERATION = "https://management.azure.com/subscriptions/sub/operationresults/abc"

# A delete is booked in ARM's deletes bucket, never behind creates in the writes bucket.
DELETE_BOOKING = booking_for("begin_delete_resource_group", JOB)
assert DELETE_BOOKING["lane"] == "deletes"


def names(history: History) -> list[str]:
    return [name for name, _ in history.replay().scheduled()]


def test_it_first_asks_whether_the_provisioning_job_has_finished() -> None:
    replay = History("teardown_brainstem", JOB).replay()

    assert replay.scheduled() == [("job_runtime_status", {"job_id": PREVIOUS})]
    assert replay.custom_status == {"step": "wait_for_provisioning", "cloud_id": JOB["cloud_id"], "job": PREVIOUS}


def test_a_running_provisioning_job_is_asked_again_after_the_poll_interval() -> None:
    history = History("teardown_brainstem", JOB).activity("job_runtime_status", {"job_id": PREVIOUS}, "Running")

    replay = history.replay()

    assert replay.timers() == ["2030-01-01T00:00:16.000000Z"]  # 1 s for the answer, then the 15 s poll
    history.timer(POLICY.teardown_poll_seconds)
    assert history.replay().scheduled()[-1] == ("job_runtime_status", {"job_id": PREVIOUS})


def test_a_finished_provisioning_job_lets_the_delete_begin() -> None:
    history = History("teardown_brainstem", JOB).activity("job_runtime_status", {"job_id": PREVIOUS}, "Completed")

    assert history.replay().scheduled()[-1] == ("reserve_arm_writes", DELETE_BOOKING)


def test_a_terminated_provisioning_job_is_given_the_platform_timeout_before_the_delete() -> None:
    history = History("teardown_brainstem", JOB).activity("job_runtime_status", {"job_id": PREVIOUS}, "Terminated")

    replay = history.replay()

    assert names(history) == ["job_runtime_status"]  # no delete yet: a timer first
    assert replay.timers() == [f"2030-01-01T00:{(1 + FUNCTION_TIMEOUT_SECONDS) // 60:02d}:01.000000Z"]
    history.timer(FUNCTION_TIMEOUT_SECONDS)
    assert history.replay().scheduled()[-1] == ("reserve_arm_writes", DELETE_BOOKING)


def test_the_delete_is_polled_verified_and_recorded() -> None:
    history = History("teardown_brainstem", JOB).activity("job_runtime_status", {"job_id": PREVIOUS}, "Completed")
    history.arm_step("begin_delete_resource_group", JOB, {"operation_url": OPERATION})
    history.timer(POLICY.teardown_poll_seconds)
    assert history.replay().scheduled()[-1] == ("poll_delete", {"job": JOB, "operation_url": OPERATION})

    history.activity("poll_delete", {"job": JOB, "operation_url": OPERATION}, {"done": True})
    assert history.replay().scheduled()[-1] == ("resource_group_exists", JOB)

    history.activity("resource_group_exists", JOB, {"exists": False})
    assert history.replay().scheduled()[-1] == ("mark_deleted", JOB)

    history.activity("mark_deleted", JOB, {"deleted": True})
    replay = history.replay()
    assert replay.done and replay.output == {"status": "deleted", "cloud_id": JOB["cloud_id"]}


def test_a_group_that_comes_back_is_deleted_again() -> None:
    history = History("teardown_brainstem", JOB).activity("job_runtime_status", {"job_id": PREVIOUS}, "Completed")
    history.arm_step("begin_delete_resource_group", JOB, {})  # already gone: nothing to poll
    history.activity("resource_group_exists", JOB, {"exists": True})

    assert names(history)[-1] == "reserve_arm_writes"  # the second delete, booked in the deletes bucket
    assert history.replay().scheduled()[-1] == ("reserve_arm_writes", DELETE_BOOKING)
    assert names(history).count("begin_delete_resource_group") == 1


def test_a_fenced_delete_ends_as_cancelled() -> None:
    history = History("teardown_brainstem", JOB).activity("job_runtime_status", {"job_id": PREVIOUS}, "Completed")
    history.arm_step("begin_delete_resource_group", JOB, {"fenced": True})

    replay = history.replay()

    assert replay.done and replay.output == {"status": "cancelled", "cloud_id": JOB["cloud_id"]}
