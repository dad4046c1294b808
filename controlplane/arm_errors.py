"""What an ARM failure means for the workflow: retry it, or stop and tell the operator.

Kept in one place so that every activity classifies the same way. azure-core has already retried
429 and 5xx (honouring Retry-After) by the time an error reaches us; what is left is either still
transient (worth a durable retry later) or permanent (a bad request, a missing permission, a name
taken by someone else), which no retry will fix.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

# 409s that clear by themselves: another operation on the same resource, a group still deleting.
_TRANSIENT_CONFLICTS = frozenset(
    {"AnotherOperationInProgress", "Conflict", "OperationNotAllowed", "ResourceGroupBeingDeleted", "ScopeLocked"}
)
# A managed identity created a moment ago may not have replicated to Entra ID yet when its first role
# assignment arrives; ARM answers 400 PrincipalNotFound, and a later attempt succeeds.
_TRANSIENT_CODES = frozenset({"PrincipalNotFound"})
_MARKER = "ARM-STEP-ERROR:"


@dataclass(frozen=True)
class StepError:
    """A failed step, as recorded on an errored row: never contains a secret."""

    step: str
    code: str
    message: str
    status: int | None = None
    transient: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class StepFailure(Exception):
    """A failure outside ARM that a step reports with its own code (e.g. a code package that cannot be fetched)."""

    def __init__(self, code: str, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.transient = transient


class TransientStepError(Exception):
    """Raised by an activity so that call_activity_with_retry tries again."""

    def __init__(self, error: StepError) -> None:
        super().__init__(_MARKER + json.dumps(error.to_dict()))
        self.error = error


def classify(step: str, exc: Exception) -> StepError:
    if isinstance(exc, StepFailure):
        return StepError(step, exc.code, _short(exc.message), exc.status, exc.transient)
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code, message = _arm_error(exc)
        status = int(exc.status_code)
        transient = (
            status in (408, 429)
            or status >= 500
            or (status == 409 and code in _TRANSIENT_CONFLICTS)
            or code in _TRANSIENT_CODES
        )
        return StepError(step, code, _short(message), status, transient)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError, TimeoutError, ConnectionError)):
        return StepError(step, type(exc).__name__, _short(str(exc)), None, True)
    return StepError(step, type(exc).__name__, _short(str(exc)), None, False)


def _arm_error(exc: HttpResponseError) -> tuple[str, str]:
    """ARM's {"error": {"code", "message"}}, or App Service's {"Code", "Message"} (which azure-core does not parse)."""
    if exc.error and exc.error.code:
        return exc.error.code, exc.error.message or str(exc.message)
    body: object = None
    try:
        body = exc.response.json() if exc.response is not None else None
    except (ValueError, AttributeError):
        body = None
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        code = inner.get("code") or inner.get("Code")
        message = inner.get("message") or inner.get("Message")
        if code:
            return str(code), str(message or exc.message)
    return exc.reason or "HttpError", str(exc.message or exc)


def error_from_failure(step: str, failure: BaseException) -> StepError:
    """Recover the StepError an activity raised, from the exception the orchestrator sees after retries."""
    text = str(failure)
    if _MARKER in text:
        payload = text.split(_MARKER, 1)[1]
        try:
            data, _ = json.JSONDecoder().raw_decode(payload)
            return StepError(**data)
        except (ValueError, TypeError):
            pass
    return StepError(step, "ActivityFailed", _short(text), None, False)


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
