"""Building blocks shared by the orchestrations. Generators, reached with ``yield from``.

Everything here runs inside an orchestrator: deterministic, no I/O, time from
``context.current_utc_datetime`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol, TypeAlias, TypeVar

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity
from controlplane.domain.events import Transition
from controlplane.domain.jobs import Policy, TwinJob
from controlplane.domain.json_records import JsonObject
from controlplane.domain.runtime_targets import CATALOG, HostingKind
from controlplane.domain.step_errors import StepError, error_from_failure
from controlplane.domain.step_outputs import Recorded
from controlplane.domain.step_requests import Booking, BookingRequest, ErrorRecord
from controlplane.domain.step_results import Fenced, StepErrored, StepOutput, result_from_json
from orchestrators.events import emit
from orchestrators.retries import retry_options

# Consumption stops a function after at most 10 minutes (host.json functionTimeout): an activity
# that started before a fence went up has certainly ended this long after it.
FUNCTION_TIMEOUT_SECONDS = 600


class StepFailed(Exception):
    """Ends an orchestration as Failed; its message is what a status query shows."""

    def __init__(self, error: StepError) -> None:
        super().__init__(f"{error.step} failed: {error.code}: {error.message}")
        self.error = error


def progress(context: df.DurableOrchestrationContext, twin: TwinJob, step: str, **extra: Any) -> None:
    context.set_custom_status({"step": step, "cloud_id": twin.cloud_id, **extra})


class ToJson(Protocol):
    def to_json(self) -> JsonObject: ...


StepInput: TypeAlias = TwinJob | ToJson  # noqa: UP040 - the product still runs on 3.11 (pyproject)
T = TypeVar("T", bound=StepOutput)


def step_input(payload: StepInput) -> JsonObject:
    """The JSON an activity is handed: the job alone, or a request that carries it (or none)."""
    return payload.to_input() if isinstance(payload, TwinJob) else payload.to_json()


def read_result(result: object, output: type[T]) -> T | Fenced | StepErrored:
    """An activity's JSON as the step's typed result (a bare value, e.g. a runtime status, as ``value``)."""
    return result_from_json(result if isinstance(result, dict) else {"value": result}, output)


def call_step(
    context: df.DurableOrchestrationContext, step: str, activity: Activity, payload: StepInput, policy: Policy,
    output: type[T],
) -> Generator[Any, Any, T | Fenced | StepErrored]:  # fmt: skip
    """Call an activity with retries; its typed result, or ``StepErrored`` once retries are spent."""
    try:
        result = yield context.call_activity_with_retry(activity, retry_options(policy), step_input(payload))
    except Exception as failure:  # the SDK raises the activity's last failure once attempts are spent
        return StepErrored(error_from_failure(step, failure))
    return read_result(result, output)


# The ARM requests each step sends (writes and POST actions, which ARM counts as writes; deletes),
# booked before it runs, per hosting kind. A guess that is short costs a wait inside the activity (the
# clients pay for the rest from the same budget); one that is long leaves a token unspent.
ARM_REQUESTS: dict[str, int] = {
    Activity.CHECK_NAMES: 2,  # checkNameAvailability for the site and the storage account (POST actions)
    Activity.ENSURE_RESOURCE_GROUP: 2,  # the group, then its CanNotDelete lock (controlplane.arm.locks)
    Activity.ENSURE_STORAGE_ACCOUNT: 1,
    Activity.ENSURE_FUNCTION_PLAN: 1,
    # Consumption: appsettings/list (a POST; ARM throttles before it routes to the provider, so it
    # counts even when Microsoft.Web answers 404 before the site exists: Learn, "Understand how Azure
    # Resource Manager throttles requests"), listKeys (the connection string), site
    Activity.BEGIN_FUNCTION_SITE: 3,
    Activity.FINISH_FUNCTION_APP: 0,  # Consumption: one read of the made site
    Activity.PUBLISH_UPDATE: 3,  # appsettings/list, listKeys, site (the plan is kept: read, not written)
    # Consumption: listKeys (the SAS), appsettings/list and PUT, syncfunctiontriggers
    Activity.PUBLISH_CODE: 4,
    Activity.BEGIN_DELETE_RESOURCE_GROUP: 2,  # the lock's DELETE, then the group's (both in the deletes bucket)
}
FLEX_ARM_REQUESTS: dict[str, int] = {
    # Flex: the deployment container and site, then three role assignments (storage is identity-based)
    Activity.BEGIN_FUNCTION_SITE: 2,
    Activity.FINISH_FUNCTION_APP: 3,
    Activity.PUBLISH_UPDATE: 2,  # the container and site again (idempotent PUTs); finish_function_app the roles
    Activity.PUBLISH_CODE: 0,  # One Deploy goes to the app's scm site, not ARM (the site is only read)
}


def arm_requests(activity: str, job: Mapping[str, Any]) -> int:
    """How many ARM requests ``activity`` sends for a twin (a job's JSON, or just its ``runtime_target``)."""
    return requests_of(activity, str(job.get("runtime_target")), repair=bool(job.get("repair")))


def requests_of(activity: str, runtime_target: str, *, repair: bool = False) -> int:
    """How many ARM requests ``activity`` sends for a twin of ``runtime_target`` (its hosting kind decides some)."""
    spec = CATALOG.get(runtime_target)
    # A repair's publish also puts the group's tags back: one PUT more (activities/updating.py).
    extra = 1 if activity == Activity.PUBLISH_UPDATE and repair else 0
    if spec is not None and spec.kind == HostingKind.FLEX_CONSUMPTION:
        return FLEX_ARM_REQUESTS.get(activity, ARM_REQUESTS[activity]) + extra
    return ARM_REQUESTS[activity] + extra


_DELETES = frozenset({Activity.BEGIN_DELETE_RESOURCE_GROUP})
# Steps that finish a twin whose chain has begun (the site PUT is behind it). In a rollout they book
# in the "bulk_finish" lane, which reaches half as far ahead, so the steps that begin twins go first
# and a wave's last 20 s site PUTs overlap queued work instead of ending the wave with ARM idle
# (controlplane.arm.fleet_budget). Measured: without it, one twin refused 46 times began last and
# the bucket sat idle for its whole chain.
_FINISHING = frozenset({Activity.PUBLISH_CODE})


def budget_lane(activity: str, twin: TwinJob) -> str:
    """The ARM budget lane a step books in: deletes apart, a rollout's finishing steps behind its others."""
    if activity in _DELETES:
        return "deletes"
    lane = twin.arm_lane
    return "bulk_finish" if lane == "bulk" and activity in _FINISHING else lane


def call_arm_step(
    context: df.DurableOrchestrationContext, step: str, activity: Activity, twin: TwinJob, policy: Policy,
    output: type[T], *, request: Callable[[TwinJob], ToJson] | None = None,
) -> Generator[Any, Any, T | Fenced | StepErrored]:  # fmt: skip
    """``call_step`` for a step that writes to ARM: book its requests in the fleet-wide budget first,
    wait for them on a durable timer, then run it with the grant (``controlplane.arm.write_budget``).

    ``request``: what the activity takes, built from the job with its grant (None: the job itself)."""
    count = requests_of(activity, twin.runtime_target, repair=twin.repair)

    def given(grant: dict[str, Any] | None) -> StepInput:
        granted = replace(twin, arm_grant=grant)
        return granted if request is None else request(granted)

    if count == 0:  # nothing to book: the step runs at once, paying for any stray request itself
        return (yield from call_step(context, step, activity, given(None), policy, output))
    booking = BookingRequest(twin.subscription_id, budget_lane(activity, twin), count).to_json()
    failures = 0
    while True:
        try:
            answer = yield context.call_activity_with_retry(Activity.RESERVE_ARM_WRITES, retry_options(policy), booking)
        except Exception as failure:  # the budget's storage stayed unreachable: the step fails as itself
            return StepErrored(error_from_failure(step, failure))
        booked = Booking.from_json(answer)
        if booked.retry_at:  # booked beyond this lane's horizon: nothing taken, ask again then
            yield context.create_timer(datetime.fromisoformat(booked.retry_at))
            continue
        if booked.not_before:
            due = datetime.fromisoformat(booked.not_before)
            if due > context.current_utc_datetime:
                yield context.create_timer(due)
        try:  # one attempt: a retry books again, so it never runs on a grant gone stale meanwhile
            result = yield context.call_activity(activity, step_input(given(booked.grant)))
        except Exception as failure:
            failures += 1
            if failures >= policy.max_attempts:
                return StepErrored(error_from_failure(step, failure))
            yield from wait(context, retry_delay(policy, failures))
            continue
        return read_result(result, output)


def retry_delay(policy: Policy, failures: int) -> float:
    """The wait before attempt ``failures + 1``: what retry_options would wait (doubling, at most 300 s)."""
    return float(min(300.0, policy.first_retry_seconds * 2.0 ** (failures - 1)))


def wait(context: df.DurableOrchestrationContext, seconds: float) -> Generator[Any, Any, None]:
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))


def deadline_after(context: df.DurableOrchestrationContext, seconds: float):  # type: ignore[no-untyped-def]
    return context.current_utc_datetime + timedelta(seconds=seconds)


def fail(context: df.DurableOrchestrationContext, twin: TwinJob, error: StepError) -> Generator[Any, Any, NoReturn]:
    """Mark the row errored with the failed step, tell the event sinks, then end the orchestration Failed."""
    progress(context, twin, "errored", failed_step=error.step, code=error.code)
    record = ErrorRecord(twin, error)
    recorded = yield from call_step(context, "record_error", Activity.MARK_ERRORED, record, twin.policy, Recorded)
    if isinstance(recorded, Recorded):  # not fenced: this job still owned the row, so the twin is errored
        yield from emit(context, twin, Transition.ERRORED, error=error.to_dict())
    raise StepFailed(error)
