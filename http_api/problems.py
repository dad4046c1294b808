"""RFC 9457 problem responses: every 4xx/5xx the API sends is one of these.

The mapping from our exceptions to a status lives on the exceptions themselves
(controlplane.domain.errors); this module only renders. Unexpected exceptions become a bare 500 with
no stack trace, no setting and no secret; the details go to the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import azure.functions as func

from controlplane.domain.errors import ControlPlaneError

logger = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://twinstack.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class PayloadTooLarge(ControlPlaneError):
    status = 413
    type = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(ControlPlaneError):
    status = 415
    type = "unsupported-media-type"
    title = "Unsupported media type"


def problem_response(error: ControlPlaneError, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + error.type,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        **error.extensions,
    }
    return func.HttpResponse(
        json.dumps(body), status_code=error.status, mimetype=PROBLEM_JSON, headers=dict(headers or {})
    )


def internal_error_response() -> func.HttpResponse:
    error = ControlPlaneError("the control plane failed unexpectedly; the failure is in its log. Try again later.")
    return problem_response(error)
