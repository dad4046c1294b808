"""teardown_brainstem, one slice of history at a time: wait for provisioning, delete, verify, record."""

from __future__ import annotations

from dataclasses import replace

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.jobs import TwinJob
from orchestrators.steps import FUNCTION_TIMEOUT_SECONDS
from tests.orchestrators.history_builder import History, booking_for
from tests.orchestrators.test_provision_history import JOB as PROVISION_JOB
from tests.orchestrators.test_provision_history import POLICY

PREVIOUS = "1" * 32
JOB = replace(TwinJob.from_input(PROVISION_JOB), job_id="2" * 32, previous_job_id=PREVIOUS).to_input()
OPERATION = "https://management.azure.com/subscriptions/sub/operationresults/abc"

# A delete is booked in ARM's deletes bucket, never behind creates in the writes bucket.
DELETE_BOOKING = booking_for(Activity.BEGIN_DELETE_RESOURCE_GROUP, JOB)
assert DELETE_BOOKING["lane"] == "deletes"


def names(history: History) -> list[str]:
    return [name for name, _ in history.replay().scheduled()]


def test_it_first_asks_whether_the_provisioning_job_has_finished() -> None:
    replay = History(Orchestration.TEARDOWN, JOB).replay()

    assert replay.scheduled() == [(Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS})]
    assert replay.custom_status == {"step": "wait_for_provisioning", "cloud_id": JOB["cloud_id"], "job": PREVIOUS}


def test_a_running_provisioning_job_is_asked_again_after_the_poll_interval() -> None:
    history = History(Orchestration.TEARDOWN, JOB).activity(
        Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS}, "Running"
    )

    replay = history.replay()

    assert replay.timers() == ["2030-01-01T00:00:16.000000Z"]  # 1 s for the answer, then the 15 s poll
    history.timer(POLICY.teardown_poll_seconds)
    assert history.replay().scheduled()[-1] == (Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS})


def test_a_finished_provisioning_job_lets_the_delete_begin() -> None:
    history = History(Orchestration.TEARDOWN, JOB).activity(
        Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS}, "Completed"
    )

    assert history.replay().scheduled()[-1] == (Activity.RESERVE_ARM_WRITES, DELETE_BOOKING)


def test_a_terminated_provisioning_job_is_given_the_platform_timeout_before_the_delete() -> None:
    history = History(Orchestration.TEARDOWN, JOB).activity(
        Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS}, "Terminated"
    )

    replay = history.replay()

    assert names(history) == [Activity.JOB_RUNTIME_STATUS]  # no delete yet: a timer first
    assert replay.timers() == [f"2030-01-01T00:{(1 + FUNCTION_TIMEOUT_SECONDS) // 60:02d}:01.000000Z"]
    history.timer(FUNCTION_TIMEOUT_SECONDS)
    assert history.replay().scheduled()[-1] == (Activity.RESERVE_ARM_WRITES, DELETE_BOOKING)


def test_the_delete_is_polled_verified_and_recorded() -> None:
    history = History(Orchestration.TEARDOWN, JOB).activity(
        Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS}, "Completed"
    )
    history.arm_step(Activity.BEGIN_DELETE_RESOURCE_GROUP, JOB, {"operation_url": OPERATION})
    history.timer(POLICY.teardown_poll_seconds)
    assert history.replay().scheduled()[-1] == (Activity.POLL_DELETE, {"job": JOB, "operation_url": OPERATION})

    history.activity(Activity.POLL_DELETE, {"job": JOB, "operation_url": OPERATION}, {"done": True})
    assert history.replay().scheduled()[-1] == (Activity.RESOURCE_GROUP_EXISTS, JOB)

    history.activity(Activity.RESOURCE_GROUP_EXISTS, JOB, {"exists": False})
    assert history.replay().scheduled()[-1] == (Activity.MARK_DELETED, JOB)

    history.activity(Activity.MARK_DELETED, JOB, {"deleted": True})
    replay = history.replay()
    assert replay.done and replay.output == {"status": "deleted", "cloud_id": JOB["cloud_id"]}


def test_a_group_that_comes_back_is_deleted_again() -> None:
    history = History(Orchestration.TEARDOWN, JOB).activity(
        Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS}, "Completed"
    )
    history.arm_step(Activity.BEGIN_DELETE_RESOURCE_GROUP, JOB, {})  # already gone: nothing to poll
    history.activity(Activity.RESOURCE_GROUP_EXISTS, JOB, {"exists": True})

    assert names(history)[-1] == Activity.RESERVE_ARM_WRITES  # the second delete, booked in the deletes bucket
    assert history.replay().scheduled()[-1] == (Activity.RESERVE_ARM_WRITES, DELETE_BOOKING)
    assert names(history).count(Activity.BEGIN_DELETE_RESOURCE_GROUP) == 1


def test_a_fenced_delete_ends_as_cancelled() -> None:
    history = History(Orchestration.TEARDOWN, JOB).activity(
        Activity.JOB_RUNTIME_STATUS, {"job_id": PREVIOUS}, "Completed"
    )
    history.arm_step(Activity.BEGIN_DELETE_RESOURCE_GROUP, JOB, {"fenced": True})

    replay = history.replay()

    assert replay.done and replay.output == {"status": "cancelled", "cloud_id": JOB["cloud_id"]}
