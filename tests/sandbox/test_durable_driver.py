"""The local Durable driver runs real SDK replays: outputs, retry/timer histories, crash safety, divergence."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import azure.durable_functions as df
import azure.functions as func
import pytest

from sandbox.durable.clock import DEFAULT_VIRTUAL_START, WallClock
from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.history import EventType, describe
from sandbox.durable.replay_check import check_replay_safety

# ---- a toy app: the shapes the product's orchestrators use ------------------------------------------

toy_app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
flaky_calls: dict[str, int] = {}
nondeterministic_replays = {"count": 0}
# Passes only when all three fan-out activities wait at it together; the timeout only ends a failing
# run (serial activities), so it is generous for a busy machine.
fan_out_barrier = threading.Barrier(3, timeout=60)
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=5)


@toy_app.orchestration_trigger(context_name="context", orchestration="toy")
def toy_orchestrator(context: df.DurableOrchestrationContext):
    request = context.get_input()
    context.set_custom_status({"step": "double"})
    doubled = yield context.call_activity("double", request["n"])
    context.set_custom_status({"step": "flaky"})
    flaky = yield context.call_activity_with_retry("flaky", RETRY, context.instance_id)
    yield context.create_timer(context.current_utc_datetime + dt.timedelta(minutes=5))
    fan = yield context.task_all([context.call_activity("double", i) for i in range(3)])
    context.set_custom_status({"step": "done"})
    return {
        "doubled": doubled,
        "flaky": flaky,
        "fan": fan,
        "uuid": context.new_uuid(),
        "finished_at": context.current_utc_datetime.isoformat(),
    }


@toy_app.activity_trigger(input_name="n")
def double(n: int) -> int:
    return n * 2


@toy_app.activity_trigger(input_name="key", activity="flaky")
async def flaky_activity(key: str) -> str:
    flaky_calls[key] = flaky_calls.get(key, 0) + 1
    if flaky_calls[key] <= 2:
        raise RuntimeError(f"transient failure #{flaky_calls[key]}")
    return "ok"


@toy_app.activity_trigger(input_name="key")
def always_fails(key: str) -> str:
    raise ValueError(f"permanent failure for {key}")


@toy_app.activity_trigger(input_name="n")
def meet_at_barrier(n: int) -> int:
    fan_out_barrier.wait()  # only passes if all three fan-out activities run at the same time
    return n


@toy_app.activity_trigger(input_name="payload")
def echo(payload, context) -> dict:
    return {"received": payload, "type": type(payload).__name__, "has_context": bool(context.invocation_id)}


@toy_app.orchestration_trigger(context_name="context")
def retry_exhausted(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=2)
    return (yield context.call_activity_with_retry("always_fails", options, "x"))


@toy_app.orchestration_trigger(context_name="context")
def concurrent_fan_out(context: df.DurableOrchestrationContext):
    return (yield context.task_all([context.call_activity("meet_at_barrier", i) for i in range(3)]))


@toy_app.orchestration_trigger(context_name="context")
def nondeterministic(context: df.DurableOrchestrationContext):
    nondeterministic_replays["count"] += 1  # module state: different on every replay, as a bug would be
    first = "double" if nondeterministic_replays["count"] == 1 else "echo"
    value = yield context.call_activity(first, 1)
    return (yield context.call_activity("double", value))


@toy_app.orchestration_trigger(context_name="context")
def raises(context: df.DurableOrchestrationContext):
    yield context.call_activity("double", 1)
    raise RuntimeError("kaboom")


@toy_app.orchestration_trigger(context_name="context")
def counts_to_three(context: df.DurableOrchestrationContext):
    count = context.get_input()
    doubled = yield context.call_activity("double", count)
    if count < 3:
        context.continue_as_new(count + 1)
        return None
    return doubled


@toy_app.orchestration_trigger(context_name="context")
def waits_for_approval(context: df.DurableOrchestrationContext):
    context.set_custom_status("waiting")
    approval = yield context.wait_for_external_event("approval")
    return {"approval": approval}


@toy_app.orchestration_trigger(context_name="context")
def calls_echo(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("echo", context.get_input()))


@toy_app.orchestration_trigger(context_name="context")
def calls_missing_activity(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("no_such_activity", 1))


@toy_app.orchestration_trigger(context_name="context")
def waits_ten_days(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + dt.timedelta(days=10))
    return context.current_utc_datetime.isoformat()


TOY_FUNCTIONS = toy_app.get_functions()  # once per app: a second call fails on duplicate names


@pytest.fixture
def driver() -> Iterator[OrchestrationDriver]:
    flaky_calls.clear()
    with OrchestrationDriver(TOY_FUNCTIONS) as running:
        yield running


def _kinds(history: list[dict]) -> list[str]:
    return [describe(event) for event in history]


# ---- tests ---------------------------------------------------------------------------------------------


def test_toy_orchestration_completes_with_output_and_custom_status(driver):
    result = driver.run("toy", {"n": 21}, instance_id="toy-1")

    assert result.status == "Completed", result.error
    assert result.output["doubled"] == 42
    assert result.output["flaky"] == "ok"
    assert result.output["fan"] == [0, 2, 4]
    assert result.custom_status == {"step": "done"}
    flaky_attempts = [e.attempt for e in driver.executions("flaky")]
    assert flaky_attempts == [1, 2, 3]
    assert sorted(e.input for e in driver.executions("double")) == [0, 1, 2, 21]


def test_retries_put_a_timer_between_attempts(driver):
    history = driver.run("toy", {"n": 1}, instance_id="toy-retry").history
    retry_part = [
        describe(e)
        for e in history
        if e["EventType"] in (EventType.TASK_SCHEDULED, EventType.TASK_FAILED, EventType.TASK_COMPLETED)
        and (e.get("Name") == "flaky" or e.get("TaskScheduledId") in (1, 3, 5))
        or e["EventType"] in (EventType.TIMER_CREATED, EventType.TIMER_FIRED)
        and (e.get("EventId") in (2, 4) or e.get("TimerId") in (2, 4))
    ]
    assert retry_part == [
        "TASK_SCHEDULED #1 flaky",
        "TASK_FAILED #1 'transient failure #1'",
        "TIMER_CREATED #2 2030-01-01T00:00:01.000000Z",
        "TIMER_FIRED #2",
        "TASK_SCHEDULED #3 flaky",
        "TASK_FAILED #3 'transient failure #2'",
        "TIMER_CREATED #4 2030-01-01T00:00:02.000000Z",
        "TIMER_FIRED #4",
        "TASK_SCHEDULED #5 flaky",
        "TASK_COMPLETED #5",
    ]


def test_exhausted_retries_fire_one_more_timer_then_fail_the_orchestration(driver):
    result = driver.run("retry_exhausted", instance_id="exhausted")

    assert result.status == "Failed"
    assert "permanent failure for x" in result.error
    assert result.error.startswith("Orchestrator function 'retry_exhausted' failed:")
    assert _kinds(result.history)[-7:] == [
        "TASK_FAILED #2 'permanent failure for x'",
        "TIMER_CREATED #3 2030-01-01T00:00:01.000000Z",  # after the last attempt too, as DurableTask.Core does
        "ORCHESTRATOR_COMPLETED",
        "ORCHESTRATOR_STARTED",
        "TIMER_FIRED #3",
        "EXECUTION_COMPLETED",
        "ORCHESTRATOR_COMPLETED",
    ]
    assert [e.attempt for e in driver.executions("always_fails")] == [1, 2]


def test_history_events_have_the_fields_the_sdk_reads(driver):
    history = driver.run("toy", {"n": 2}, instance_id="toy-shape").history

    assert [e["EventType"] for e in history[:2]] == [EventType.ORCHESTRATOR_STARTED, EventType.EXECUTION_STARTED]
    assert history[1]["Version"] == "" and history[1]["Name"] == "toy"
    assert all({"EventType", "EventId", "IsPlayed", "Timestamp"} <= event.keys() for event in history)
    assert history[-2]["EventType"] == EventType.EXECUTION_COMPLETED
    assert history[-1]["EventType"] == EventType.ORCHESTRATOR_COMPLETED


def test_orchestration_time_comes_from_history_and_is_deterministic(driver):
    first = driver.run("toy", {"n": 3}, instance_id="same-id").output
    flaky_calls.clear()
    with OrchestrationDriver(TOY_FUNCTIONS) as fresh:  # a fresh virtual clock starts at the same moment
        second = fresh.run("toy", {"n": 3}, instance_id="same-id").output

    # two 1 s retry timers, then the 5 min timer, all on virtual time
    expected = DEFAULT_VIRTUAL_START + dt.timedelta(seconds=2, minutes=5)
    assert dt.datetime.fromisoformat(first["finished_at"]) == expected
    assert first["uuid"] == second["uuid"]


def test_fan_out_activities_run_concurrently(driver):
    result = driver.run("concurrent_fan_out", instance_id="fan", timeout=10)

    assert result.status == "Completed", result.error
    assert result.output == [0, 1, 2]


def test_activity_gets_input_as_the_worker_decodes_it_and_may_ask_for_context(driver):
    result = driver.run("calls_echo", [1, {"a": "b"}], instance_id="echo")

    assert result.output == {"received": [1, {"a": "b"}], "type": "list", "has_context": True}


def test_crash_after_every_event_resumes_to_the_same_result():
    def compare(result):
        # 'finished_at' and 'uuid' may legitimately move: a redelivered flaky attempt changes the retry count
        return result.status, {k: result.output[k] for k in ("doubled", "flaky", "fan")}

    cases = check_replay_safety(
        lambda: OrchestrationDriver(TOY_FUNCTIONS),
        "toy",
        {"n": 5},
        instance_id="crash-check",
        compare=compare,
        before_each_run=flaky_calls.clear,
    )

    assert len(cases) > 30
    assert all(case.resumed.status == "Completed" for case in cases)


def test_nondeterministic_orchestrator_fails_with_the_divergence(driver):
    nondeterministic_replays["count"] = 0

    result = driver.run("nondeterministic", instance_id="diverges")

    assert result.status == "Failed"
    assert "Non-Deterministic workflow detected" in result.error
    assert "TASK_SCHEDULED #0 double" in result.error


def test_orchestrator_exception_fails_the_instance_with_its_message(driver):
    result = driver.run("raises", instance_id="raises")

    assert result.status == "Failed"
    assert result.output == "Orchestrator function 'raises' failed: kaboom"


def test_unknown_activity_fails_the_task(driver):
    result = driver.run("calls_missing_activity", instance_id="missing")

    assert result.status == "Failed"
    assert "no_such_activity" in result.error


def test_continue_as_new_restarts_with_fresh_history(driver):
    result = driver.run("counts_to_three", 0, instance_id="counter")

    assert result.status == "Completed", result.error
    assert result.output == 6
    assert result.input == 3  # the last generation's input
    assert len(result.history) < 10


def test_terminate_and_raise_event_reach_a_waiting_instance(driver):
    waiting = driver.start("waits_for_approval", instance_id="to-terminate")
    approved = driver.start("waits_for_approval", instance_id="to-approve")

    driver.terminate(waiting, "no longer needed")
    driver.raise_event(approved, "approval", {"by": "alice"})

    terminated = driver.wait(waiting, timeout=5)
    assert terminated.status == "Terminated"
    assert terminated.output == "no longer needed"
    assert driver.wait(approved, timeout=5).output == {"approval": {"by": "alice"}}


def test_wall_clock_really_waits_scaled():
    flaky_calls.clear()
    clock = WallClock(speed=1000)  # the toy waits 302 orchestration seconds: about 0.3 real seconds
    started = time.monotonic()
    # Unscaled, the 302 s would outlast the run's 60 s timeout: finishing at all shows the scaling. Only a
    # lower bound is checked on the wall clock (a busy machine can only make it later, never earlier).
    with OrchestrationDriver(TOY_FUNCTIONS, clock=clock) as driver:
        result = driver.run("toy", {"n": 1}, instance_id="wall", timeout=60)
    clock.close()

    assert result.status == "Completed", result.error
    assert time.monotonic() - started >= 0.3


def test_timers_longer_than_six_days_are_split_as_on_azure_storage(driver):
    result = driver.run("waits_ten_days", instance_id="long-timer")

    assert result.status == "Completed", result.error
    assert dt.datetime.fromisoformat(result.output) == DEFAULT_VIRTUAL_START + dt.timedelta(days=10)
    fired = [e["FireAt"][:10] for e in result.history if e["EventType"] == EventType.TIMER_FIRED]
    assert fired == ["2030-01-04", "2030-01-07", "2030-01-11"]
