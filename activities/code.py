"""Activities that put a deploy_ref's code on a twin and ask the twin whether it runs it.

``publish_code`` works on any twin whose Function App exists (a new one, or a running one being
moved to another deploy_ref); ``probe_brainstem`` asks the brainstem's readiness route. Neither
returns a secret: the package's SAS, the account key and the scm token stay inside the activity.
"""

from __future__ import annotations

import logging
from typing import Any

import azure.durable_functions as df
import requests

from activities.payloads import JsonObject
from activities.steps import run_step
from controlplane.arm.clients import arm_clients
from controlplane.arm.code_publishing import publish_code as publish_deploy_ref
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import BrainstemNames, brainstem_names
from controlplane.domain.runtime_targets import target_spec
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

PROBE_TIMEOUT_SECONDS = 10


# The row status a publish runs under: a new twin's, or a running twin's being moved to another deploy_ref.
_FENCES = {"provisioning": Status.PROVISIONING, "updating": Status.UPDATING}


@blueprint.activity_trigger(input_name="request")
def publish_code(request: JsonObject) -> dict[str, Any]:
    """Publish the job's deploy_ref (or follow the deployment ``request["deployment_id"]`` already started)."""
    twin = BrainstemJob.from_input(request["job"])
    settings = get_settings()

    def action(names: BrainstemNames) -> dict[str, Any]:
        outcome = publish_deploy_ref(
            arm_clients(twin.subscription_id), names, target_spec(twin.runtime_target),
            deploy_ref=twin.deploy_ref, package_url=settings.package_url(twin.deploy_ref),
            deployment_id=request.get("deployment_id"),
        )  # fmt: skip
        return outcome.to_result()

    fence = _FENCES[str(request.get("fence") or "provisioning")]
    return run_step("publish", twin, action, while_status=fence)


@blueprint.activity_trigger(input_name="job")
def probe_brainstem(job: JsonObject) -> dict[str, Any]:
    """One GET of the twin's readiness route: ready on a 2xx that reports the job's deploy_ref, or none.

    The root URL is never asked: Azure answers it with a landing page whether or not any code loaded.
    """
    twin = BrainstemJob.from_input(job)
    url = get_settings().readiness_url(brainstem_names(twin.name))
    try:
        response = requests.get(url, timeout=PROBE_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as exc:
        return {"ready": False, "status": None, "reason": type(exc).__name__}
    running = _reported_deploy_ref(response)
    ok = 200 <= response.status_code < 300 and running in (None, twin.deploy_ref)
    answer: dict[str, Any] = {"ready": ok, "status": response.status_code}
    if running is not None:
        answer["deploy_ref"] = running
    return answer


def _reported_deploy_ref(response: requests.Response) -> str | None:
    if not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("deploy_ref") if isinstance(body, dict) else None
    return str(value)[:64] if value is not None else None
