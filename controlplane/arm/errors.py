"""What an ARM failure means for the workflow: retry it, or stop and tell the operator.

Kept in one place so that every activity classifies the same way. azure-core has already retried
429 and 5xx (honouring Retry-After) by the time an error reaches us; what is left is either still
transient (worth a durable retry later) or permanent (a bad request, a missing permission, a name
taken by someone else), which no retry will fix.
"""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from controlplane.domain.step_errors import StepError, StepFailure, TransientStepError, error_from_failure, shorten

__all__ = ["StepError", "StepFailure", "TransientStepError", "classify", "error_from_failure"]

# A 409 is classified by its code, never by its status alone: App Service answers a bare 409
# ``Conflict`` for a site name another customer holds, and Storage 409 ``StorageAccountAlreadyTaken``
# for an account name held elsewhere; both are permanent (names are global across Azure: Learn,
# "Resource naming restrictions"). Only these clear by themselves: another operation on the same
# resource (ARM's AnotherOperationInProgress) and a group still being deleted
# (ResourceGroupBeingDeleted, Learn: "Resolve errors for resource group is being deleted").
_TRANSIENT_CONFLICTS = frozenset({"AnotherOperationInProgress", "ResourceGroupBeingDeleted"})
# A managed identity created a moment ago may not have replicated to Entra ID yet when its first role
# assignment arrives; ARM answers 400 PrincipalNotFound, and a later attempt succeeds.
_TRANSIENT_CODES = frozenset({"PrincipalNotFound"})


def classify(step: str, exc: Exception) -> StepError:
    if isinstance(exc, StepFailure):
        return StepError(step, exc.code, shorten(exc.message), exc.status, exc.transient)
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code, message = _arm_error(exc)
        status = int(exc.status_code)
        transient = (
            status in (408, 429)
            or status >= 500
            or (status == 409 and code in _TRANSIENT_CONFLICTS)
            or code in _TRANSIENT_CODES
        )
        return StepError(step, code, shorten(message), status, transient)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError, TimeoutError, ConnectionError)):
        return StepError(step, type(exc).__name__, shorten(str(exc)), None, True)
    return StepError(step, type(exc).__name__, shorten(str(exc)), None, False)


def _arm_error(exc: HttpResponseError) -> tuple[str, str]:
    """ARM's {"error": {"code", "message"}}, or App Service's {"Code", "Message"} (which azure-core does not parse)."""
    if exc.error and exc.error.code:
        return exc.error.code, exc.error.message or str(exc.message)
    body: object = None
    try:
        body = exc.response.json() if exc.response is not None else None  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        inner: dict[str, object] = error if isinstance(error, dict) else body
        code = inner.get("code") or inner.get("Code")
        message = inner.get("message") or inner.get("Message")
        if code:
            return str(code), str(message or exc.message)
    return exc.reason or "HttpError", str(exc.message or exc)
