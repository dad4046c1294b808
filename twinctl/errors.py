"""The CLI's failures and their exit codes, mapped in one place.

Scripts branch on the exit code, people read the one ``error:`` line on stderr; both come from
these exceptions, so a command never prints or exits on its own. The HTTP status to exit code
mapping lives here too, so every command treats the same answer the same way.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    OTHER = 1
    INVALID_INPUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    JOB_FAILED = 5
    UNREACHABLE = 6
    UNAUTHORIZED = 7
    THROTTLED = 8
    INTERRUPTED = 130  # the shell's convention for Ctrl-C (128 + SIGINT)


_EXIT_CODE_BY_STATUS = {
    400: ExitCode.INVALID_INPUT,
    413: ExitCode.INVALID_INPUT,
    415: ExitCode.INVALID_INPUT,
    422: ExitCode.INVALID_INPUT,
    404: ExitCode.NOT_FOUND,
    410: ExitCode.NOT_FOUND,
    409: ExitCode.CONFLICT,
    401: ExitCode.UNAUTHORIZED,
    403: ExitCode.UNAUTHORIZED,
    429: ExitCode.THROTTLED,
}

# Longest message we print: a failed orchestration's output can embed a whole stack trace, which
# `--json` still shows in full; the error line has to stay readable in a terminal and a CI log.
MAX_MESSAGE_LENGTH = 500


def exit_code_for_status(status: int) -> ExitCode:
    return _EXIT_CODE_BY_STATUS.get(status, ExitCode.OTHER)


def one_line(text: str) -> str:
    """Collapse whitespace (stack traces, multi-line details) and cap the length."""
    flat = " ".join(text.split())
    if len(flat) > MAX_MESSAGE_LENGTH:
        return flat[: MAX_MESSAGE_LENGTH - 1] + "…"
    return flat


class TwinctlError(Exception):
    """Base class: ``str(error)`` is the text after ``error: ``; ``exit_code`` what the process returns."""

    exit_code: ExitCode = ExitCode.OTHER

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class InvalidArgument(TwinctlError):
    """Something we can reject before asking the server (a malformed id)."""

    exit_code = ExitCode.INVALID_INPUT


class Unreachable(TwinctlError):
    """No HTTP answer at all: connection refused, DNS failure, timeout."""

    exit_code = ExitCode.UNREACHABLE


class UnexpectedResponse(TwinctlError):
    """An answer outside the API contract (not JSON, missing fields): likely the wrong URL or a proxy."""


class ApiError(TwinctlError):
    """A 4xx/5xx answer; keeps the problem document so that callers can read its extensions."""

    def __init__(
        self,
        *,
        status: int,
        title: str,
        detail: str | None = None,
        field: str | None = None,
        problem: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.problem = problem or {}
        self.retry_after = retry_after
        self.exit_code = exit_code_for_status(status)
        message = f"{title}: {detail}" if detail else title
        if field:
            message += f" (field: {field})"
        if status == 409:
            # The conflict names the existing twin and its job: say how to follow it instead.
            hints = [f"{key}: {self.problem[key]}" for key in ("cloud_id", "job_id") if self.problem.get(key)]
            if hints:
                message += f" ({', '.join(hints)})"
        super().__init__(message)


class JobFailed(TwinctlError):
    """The job finished but did not do what it was for: Failed, Terminated, or a cancelled provision."""

    exit_code = ExitCode.JOB_FAILED

    def __init__(self, message: str, job: dict[str, Any]) -> None:
        super().__init__(message)
        self.job = job


class WaitTimedOut(TwinctlError):
    """We stopped waiting; the job itself goes on on the server."""


class Interrupted(TwinctlError):
    """Ctrl-C while waiting; like a timeout, the job goes on."""

    exit_code = ExitCode.INTERRUPTED
