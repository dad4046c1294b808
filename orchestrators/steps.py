"""Building blocks shared by the orchestrations. Generators, reached with ``yield from``.

Everything here runs inside an orchestrator: deterministic, no I/O, time from
``context.current_utc_datetime`` only.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.events import Transition
from controlplane.domain.jobs import BrainstemJob, Policy
from controlplane.domain.runtime_targets import CATALOG, HostingKind
from controlplane.domain.step_errors import StepError, error_from_failure

# Consumption stops a function after at most 10 minutes (host.json functionTimeout): an activity
# that started before a fence went up has certainly ended this long after it.
FUNCTION_TIMEOUT_SECONDS = 600


class BackoffRetryOptions(df.RetryOptions):  # type: ignore[misc]  # the SDK is untyped
    """RetryOptions with exponential backoff.

    The Python SDK's RetryOptions serialises only the first interval and the attempt count; the
    Durable extension also reads backoffCoefficient and maxRetryIntervalInMilliseconds (as the
    JavaScript SDK sends them), so we add them to the action it is given.
    """

    def __init__(
        self, first_retry_ms: int, max_attempts: int, *, coefficient: float = 2.0, max_retry_ms: int = 300_000
    ):
        super().__init__(first_retry_ms, max_attempts)
        self.backoff_coefficient = coefficient
        self.max_retry_interval_in_milliseconds = max_retry_ms

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "backoffCoefficient": self.backoff_coefficient,
            "maxRetryIntervalInMilliseconds": self.max_retry_interval_in_milliseconds,
        }


def retry_options(policy: Policy) -> BackoffRetryOptions:
    return BackoffRetryOptions(max(1, int(policy.first_retry_seconds * 1000)), policy.max_attempts)


class StepFailed(Exception):
    """Ends an orchestration as Failed; its message is what a status query shows."""

    def __init__(self, error: StepError) -> None:
        super().__init__(f"{error.step} failed: {error.code}: {error.message}")
        self.error = error


def progress(context: df.DurableOrchestrationContext, twin: BrainstemJob, step: str, **extra: Any) -> None:
    context.set_custom_status({"step": step, "cloud_id": twin.cloud_id, **extra})


def call_step(
    context: df.DurableOrchestrationContext, step: str, activity: str, payload: Any, policy: Policy
) -> Generator[Any, Any, dict[str, Any]]:
    """Call an activity with retries; return its result, or ``{"error": ...}`` once retries are spent."""
    try:
        result = yield context.call_activity_with_retry(activity, retry_options(policy), payload)
    except Exception as failure:  # the SDK raises the activity's last failure once attempts are spent
        return {"error": error_from_failure(step, failure).to_dict()}
    return result if isinstance(result, dict) else {"value": result}


# The ARM requests each step sends (writes and POST actions, which ARM counts as writes; deletes),
# booked before it runs, per hosting kind. A guess that is short costs a wait inside the activity (the
# clients pay for the rest from the same budget); one that is long leaves a token unspent.
ARM_REQUESTS = {
    "check_names": 2,  # checkNameAvailability for the site and the storage account (POST actions)
    "ensure_resource_group": 2,  # the group, then its CanNotDelete lock (controlplane.arm.locks)
    "ensure_storage_account": 1,
    # Consumption: appsettings/list (a POST; ARM throttles before it routes to the provider, so it
    # counts even when Microsoft.Web answers 404 before the site exists: Learn, "Understand how Azure
    # Resource Manager throttles requests"), listKeys (the connection string), plan, site
    "ensure_function_app": 4,
    "publish_update": 3,  # appsettings/list, listKeys, site (the plan is kept: read, not written)
    # Consumption: listKeys (the SAS), appsettings/list and PUT, syncfunctiontriggers
    "publish_code": 4,
    "begin_delete_resource_group": 2,  # the lock's DELETE, then the group's (both in the deletes bucket)
}
FLEX_ARM_REQUESTS = {
    # Flex: the deployment container, plan, site and three role assignments (storage is identity-based)
    "ensure_function_app": 6,
    "publish_update": 5,  # the container, site and role assignments again (all idempotent PUTs)
    "publish_code": 0,  # One Deploy goes to the app's scm site, not ARM (the site is only read)
}


def arm_requests(activity: str, job: dict[str, Any]) -> int:
    """How many ARM requests ``activity`` sends for this job's twin (its hosting kind decides some)."""
    spec = CATALOG.get(str(job.get("runtime_target")))
    # A repair's publish also puts the group's tags back: one PUT more (activities/updating.py).
    extra = 1 if activity == "publish_update" and job.get("repair") else 0
    if spec is not None and spec.kind == HostingKind.FLEX_CONSUMPTION:
        return FLEX_ARM_REQUESTS.get(activity, ARM_REQUESTS[activity]) + extra
    return ARM_REQUESTS[activity] + extra


_DELETES = frozenset({"begin_delete_resource_group"})
# Steps that finish a twin whose chain has begun (the site PUT is behind it). In a rollout they book
# in the "bulk_finish" lane, which reaches half as far ahead, so the steps that begin twins go first
# and a wave's last 20 s site PUTs overlap queued work instead of ending the wave with ARM idle
# (controlplane.arm.fleet_budget). Measured: without it, one twin refused 46 times began last and
# the bucket sat idle for its whole chain.
_FINISHING = frozenset({"publish_code"})


def budget_lane(activity: str, job: dict[str, Any]) -> str:
    """The ARM budget lane a step books in: deletes apart, a rollout's finishing steps behind its others."""
    if activity in _DELETES:
        return "deletes"
    lane = str(job.get("arm_lane", "interactive"))
    return "bulk_finish" if lane == "bulk" and activity in _FINISHING else lane


def call_arm_step(
    context: df.DurableOrchestrationContext, step: str, activity: str, job: dict[str, Any], policy: Policy,
    *, beside_job: dict[str, Any] | None = None,
) -> Generator[Any, Any, dict[str, Any]]:  # fmt: skip
    """``call_step`` for a step that writes to ARM: book its requests in the fleet-wide budget first,
    wait for them on a durable timer, then run it with the grant (``controlplane.arm.write_budget``).

    ``beside_job``: the activity takes ``{"job": job, **beside_job}`` rather than the job itself."""
    lane = budget_lane(activity, job)
    count = arm_requests(activity, job)
    if count == 0:  # nothing to book: the step runs at once, paying for any stray request itself
        granted = {**job, "arm_grant": None}
        request = granted if beside_job is None else {"job": granted, **beside_job}
        return (yield from call_step(context, step, activity, request, policy))
    request = {"subscription_id": job["subscription_id"], "lane": lane, "count": count}
    failures = 0
    while True:
        try:
            booked = yield context.call_activity_with_retry("reserve_arm_writes", retry_options(policy), request)
        except Exception as failure:  # the budget's storage stayed unreachable: the step fails as itself
            return {"error": error_from_failure(step, failure).to_dict()}
        if booked.get("retry_at"):  # booked beyond this lane's horizon: nothing taken, ask again then
            yield context.create_timer(datetime.fromisoformat(booked["retry_at"]))
            continue
        if booked.get("not_before"):
            due = datetime.fromisoformat(booked["not_before"])
            if due > context.current_utc_datetime:
                yield context.create_timer(due)
        granted = {**job, "arm_grant": booked.get("grant")}
        step_input = granted if beside_job is None else {"job": granted, **beside_job}
        try:  # one attempt: a retry books again, so it never runs on a grant gone stale meanwhile
            result = yield context.call_activity(activity, step_input)
        except Exception as failure:
            failures += 1
            if failures >= policy.max_attempts:
                return {"error": error_from_failure(step, failure).to_dict()}
            yield from wait(context, retry_delay(policy, failures))
            continue
        return result if isinstance(result, dict) else {"value": result}


def retry_delay(policy: Policy, failures: int) -> float:
    """The wait before attempt ``failures + 1``: what retry_options would wait (doubling, at most 300 s)."""
    return float(min(300.0, policy.first_retry_seconds * 2.0 ** (failures - 1)))


def wait(context: df.DurableOrchestrationContext, seconds: float) -> Generator[Any, Any, None]:
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))


def deadline_after(context: df.DurableOrchestrationContext, seconds: float):  # type: ignore[no-untyped-def]
    return context.current_utc_datetime + timedelta(seconds=seconds)


def fail(
    context: df.DurableOrchestrationContext, twin: BrainstemJob, job: dict[str, Any], error: StepError
) -> Generator[Any, Any, None]:
    """Mark the row errored with the failed step, tell the event sinks, then end the orchestration Failed."""
    from orchestrators.events import emit  # here, not at the top: orchestrators.events imports this module

    progress(context, twin, "errored", failed_step=error.step, code=error.code)
    record = {"job": job, "error": error.to_dict()}
    recorded = yield from call_step(context, "record_error", "mark_errored", record, twin.policy)
    if recorded.get("recorded"):  # not fenced: this job still owned the row, so the twin is errored
        yield from emit(context, twin, Transition.ERRORED, error=error.to_dict())
    raise StepFailed(error)
