"""HTTP-triggered functions of the control plane."""

from __future__ import annotations

import json
import logging

import azure.durable_functions as df
import azure.functions as func

from controlplane.errors import ControlPlaneError
from controlplane.registry import default_registry

logger = logging.getLogger(__name__)
blueprint = df.Blueprint(http_auth_level=func.AuthLevel.FUNCTION)

def _json(body: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


def _problem(error: ControlPlaneError) -> func.HttpResponse:
    body = {"type": f"urn:twinstack:problem:{error.type}", "title": error.title, "status": error.status, "detail": error.detail}
    body.update(error.extensions)
    return func.HttpResponse(json.dumps(body), status_code=error.status, mimetype="application/problem+json")


@blueprint.route(route="cp/health", methods=["GET"])
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Fleet counts by status and whether the registry is reachable."""
    try:
        counts = default_registry().counts()
    except ControlPlaneError as exc:
        return _problem(exc)
    return _json({**counts, "registry": "ok"})
