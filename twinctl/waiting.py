"""Waiting for a job: poll with back-off until it ends, then decide whether it did its job.

This is the part a person used to do by watching a script. The loop asks often at first (most
steps are quick) and less often later, obeys the server's ``Retry-After`` within a cap (a
misconfigured server must not stall a CI job for minutes between polls), and survives the brief
hiccups of a long wait (429, 502-504, a dropped connection) instead of failing a ten-minute
provision on one lost poll. Time comes from a ``Clock`` so tests run it on fake time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from twinctl.api import ControlPlaneClient
from twinctl.errors import ApiError, JobFailed, TwinctlError, Unreachable, WaitTimedOut

logger = logging.getLogger(__name__)

# Durable Functions runtime statuses after which nothing more will happen.
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
# Answers worth another try while waiting: the job is fine, the road to it had a bump.
TRANSIENT_HTTP_STATUSES = frozenset({429, 502, 503, 504})
# What a job's output.status must be for its kind to count as success.
SUCCESS_OUTPUT_STATUS = {"provision": "active", "teardown": "deleted"}


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Monotonic time: immune to wall-clock jumps during a long wait."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask. ``max_delay`` caps both our back-off and the server's ``Retry-After``."""

    first_delay: float = 0.5
    multiplier: float = 1.5
    max_delay: float = 5.0
    max_consecutive_transient_errors: int = 5

    def backoff(self) -> Iterator[float]:
        delay = self.first_delay
        while True:
            yield min(delay, self.max_delay)
            delay *= self.multiplier

    def honour(self, retry_after: float) -> float:
        return min(max(retry_after, 0.0), self.max_delay)


ProgressCallback = Callable[[dict[str, Any]], None]


def wait_for_job(
    client: ControlPlaneClient,
    job_id: str,
    *,
    timeout: float,
    policy: PollPolicy,
    clock: Clock,
    on_progress: ProgressCallback | None = None,
    initial_retry_after: float | None = None,
) -> dict[str, Any]:
    """Poll until the job reaches a terminal status and return its last view; raise WaitTimedOut at ``timeout``.

    ``initial_retry_after`` is the ``Retry-After`` of the answer that started the job: honoured
    (capped) before the first poll. Without it the first poll is immediate, since ``twinctl wait``
    is often run on a job that has already finished.
    """
    deadline = clock.now() + timeout
    backoff = policy.backoff()
    last: dict[str, Any] | None = None
    transient_errors = 0
    delay = policy.honour(initial_retry_after) if initial_retry_after is not None else 0.0
    while True:
        if delay > 0:
            remaining = deadline - clock.now()
            if remaining <= 0:
                raise WaitTimedOut(_timed_out_message(job_id, timeout, last))
            clock.sleep(min(delay, remaining))
        try:
            reply = client.get_job(job_id)
        except (ApiError, Unreachable) as error:
            if not _is_transient(error) or transient_errors >= policy.max_consecutive_transient_errors:
                raise
            transient_errors += 1
            retry_after = error.retry_after if isinstance(error, ApiError) else None
            delay = policy.honour(retry_after) if retry_after is not None else next(backoff)
            logger.debug("poll of %s failed (%s); retrying in %.2fs", job_id, error, delay)
            continue
        transient_errors = 0
        last = reply.body
        if on_progress is not None:
            on_progress(last)
        if last["runtime_status"] in TERMINAL_STATUSES:
            return last
        # Advance the back-off even when the server sets the pace, so that a server that stops
        # sending Retry-After does not reset us to polling twice a second.
        step = next(backoff)
        delay = policy.honour(reply.retry_after) if reply.retry_after is not None else step


def require_success(job: dict[str, Any]) -> dict[str, Any]:
    """Return the job's output if it did what it was for; raise JobFailed (exit 5) otherwise."""
    kind = job.get("kind") or "job"
    what = f"{_noun(kind)} of {job.get('cloud_id') or 'the brainstem'}"
    runtime_status = job.get("runtime_status")
    if runtime_status != "Completed":
        reason = job.get("error") or "no error message was recorded"
        raise JobFailed(f"{what} {str(runtime_status).lower()}: {reason} (job_id: {job.get('job_id')})", job)
    output = job.get("output")
    if not isinstance(output, dict):
        raise JobFailed(f"{what} completed without an output (job_id: {job.get('job_id')})", job)
    expected = SUCCESS_OUTPUT_STATUS.get(kind)
    if expected is not None and output.get("status") != expected:
        reason = output.get("error") or output.get("reason") or f"its output status is '{output.get('status')}'"
        raise JobFailed(f"{what} ended {output.get('status')}: {reason} (job_id: {job.get('job_id')})", job)
    return output


def _is_transient(error: TwinctlError) -> bool:
    return isinstance(error, Unreachable) or (isinstance(error, ApiError) and error.status in TRANSIENT_HTTP_STATUSES)


def _noun(kind: str) -> str:
    return {"provision": "provisioning", "teardown": "teardown"}.get(kind, kind)


def _timed_out_message(job_id: str, timeout: float, last: dict[str, Any] | None) -> str:
    state = ""
    if last is not None:
        state = f" (last status: {last.get('runtime_status')}"
        state += f", step: {last['step']})" if last.get("step") else ")"
    return (
        f"gave up waiting for job {job_id} after {timeout:g}s{state}; the job goes on: "
        f"resume with 'twinctl wait {job_id}'"
    )
