"""The driver obeys host.json as the host does: activity slots per instance × instances, functionTimeout,
and the backend's actions per second (sandbox/durable/host_limits.py cites the Microsoft sources)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
import pytest

from sandbox.durable.clock import VirtualClock
from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.host_limits import (
    DTS_ACTIONS_PER_SECOND_PER_CAPACITY_UNIT,
    HostLimits,
    infra_instance_count,
    timespan_seconds,
)

limits_app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
running = {"now": 0, "peak": 0}
running_lock = threading.Lock()
release = threading.Event()
virtual_clock: dict[str, VirtualClock] = {}


@limits_app.orchestration_trigger(context_name="context", orchestration="fan_out")
def fan_out(context: df.DurableOrchestrationContext):
    results = yield context.task_all([context.call_activity("held", i) for i in range(context.get_input())])
    return results


@limits_app.activity_trigger(input_name="n")
def held(n: int) -> int:
    with running_lock:
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
    release.wait(60)  # the test lets them go once the slots are full
    with running_lock:
        running["now"] -= 1
    return n


@limits_app.orchestration_trigger(context_name="context", orchestration="slow_then_caught")
def slow_then_caught(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("slow", context.get_input())
    except Exception as failure:  # the host's timeout reaches the orchestrator as a failed task
        return str(failure)
    return "finished"


@limits_app.activity_trigger(input_name="minutes")
def slow(minutes: int) -> str:
    virtual_clock["clock"].advance(dt.timedelta(minutes=minutes))  # an ARM wait, on the virtual clock
    return "returned late"


@limits_app.orchestration_trigger(context_name="context", orchestration="three_in_a_row")
def three_in_a_row(context: df.DurableOrchestrationContext):
    for city in ("Tokyo", "Seattle", "London"):
        yield context.call_activity("hello", city)
    return "done"


@limits_app.activity_trigger(input_name="city")
def hello(city: str) -> str:
    return f"Hello {city}"


FUNCTIONS = limits_app.get_functions()


def test_the_shipped_host_json_and_infra_give_the_deployed_slots() -> None:
    limits = HostLimits.from_host_json()
    host = json.loads((Path(__file__).resolve().parents[2] / "host.json").read_text())["extensions"]["durableTask"]
    assert limits.instances == infra_instance_count() > 1
    assert limits.activity_slots == host["maxConcurrentActivityFunctions"] * limits.instances
    assert limits.orchestrator_slots == host["maxConcurrentOrchestratorFunctions"] * limits.instances
    assert limits.function_timeout_seconds == 600


def test_timespans_read_as_the_host_reads_them() -> None:
    assert timespan_seconds("00:10:00") == 600
    assert timespan_seconds("1.02:00:30.5") == 86400 + 7200 + 30.5
    with pytest.raises(ValueError):
        timespan_seconds("10 minutes")
    assert HostLimits.from_host_json({"functionTimeout": "-1"}, instances=1).function_timeout_seconds is None


def test_the_scheduler_backend_is_paced_at_its_skus_rate() -> None:
    dedicated = {"extensions": {"durableTask": {"storageProvider": {"type": "azureManaged"}}}}
    assert HostLimits.from_host_json(dedicated, instances=1, capacity_units=3).backend_actions_per_second == (
        3 * DTS_ACTIONS_PER_SECOND_PER_CAPACITY_UNIT
    )
    assert HostLimits.from_host_json(dedicated, instances=1).backend_actions_per_second == 500
    assert HostLimits.from_host_json({}, instances=1).backend_actions_per_second is None


def test_no_more_activities_run_at_once_than_instances_times_the_per_instance_throttle() -> None:
    limits = HostLimits(activities_per_instance=2, orchestrators_per_instance=2, instances=2)
    running.update(now=0, peak=0)
    release.clear()
    with OrchestrationDriver(FUNCTIONS, limits=limits) as driver:
        instance = driver.start("fan_out", 10)
        deadline = threading.Event()
        for _ in range(600):  # until the four slots are taken (a bound on a failing run, not a timing)
            if running["now"] == limits.activity_slots:
                break
            deadline.wait(0.1)
        assert running["now"] == limits.activity_slots  # the others queue for a slot
        release.set()
        result = driver.wait(instance)
    assert result.status == "Completed" and result.output == list(range(10))
    assert running["peak"] == limits.activity_slots == 4
    assert driver.slots.snapshot()["runs"] == 10 and driver.slots.peak == 4


def test_an_activity_still_running_at_function_timeout_fails_with_the_hosts_message() -> None:
    clock = VirtualClock()
    virtual_clock["clock"] = clock
    limits = HostLimits(instances=1, function_timeout_seconds=600)
    with OrchestrationDriver(FUNCTIONS, clock=clock, limits=limits) as driver:
        late = driver.run("slow_then_caught", 11)
        in_time = driver.run("slow_then_caught", 9)
    reason, _, details = late.output.partition(" \n ")  # the SDK's message: the task's Reason, then Details
    assert reason == "Timeout value of 00:10:00 was exceeded by function: Functions.slow"
    assert details.startswith("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException")
    assert in_time.output == "finished"
    # Without limits there is no host, so no timeout: the driver's old behaviour for the replay tests.
    with OrchestrationDriver(FUNCTIONS, clock=VirtualClock()) as unlimited:
        virtual_clock["clock"] = unlimited.clock  # type: ignore[assignment]
        assert unlimited.run("slow_then_caught", 11).output == "finished"


def test_actions_are_counted_as_the_scheduler_bills_them_and_paced_at_its_rate() -> None:
    # Learn's worked example: an orchestration calling three activities costs 7 actions (1 start, and
    # for each activity its scheduling and the processing of its result).
    clock = VirtualClock()
    limits = HostLimits(instances=1, backend_actions_per_second=1.0)
    with OrchestrationDriver(FUNCTIONS, clock=clock, limits=limits) as driver:
        started = clock.now()
        assert driver.run("three_in_a_row").output == "done"
    assert driver.backend.actions == 7
    # At 1 action/s, seven actions span at least six seconds of the backend's time.
    assert (clock.now() - started).total_seconds() >= 6
