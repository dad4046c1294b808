"""Activities that put a deploy_ref's code on a twin and ask the twin whether it runs it.

``publish_code`` works on any twin whose Function App exists (a new one, or a running one being
moved to another deploy_ref); ``probe_brainstem`` asks the brainstem's readiness route. Neither
returns a secret: the package's SAS, the account key and the scm token stay inside the activity.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df

from activities.payloads import JsonObject
from activities.steps import fence_of, run_step
from controlplane.arm.clients import arm_clients
from controlplane.arm.code_publishing import publish_code as publish_deploy_ref
from controlplane.domain.jobs import TwinJob
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.domain.runtime_targets import target_spec
from controlplane.domain.step_outputs import Probe, PublishOutcome
from controlplane.domain.step_requests import PublishRequest
from controlplane.settings import get_settings
from controlplane.twins.probe import probe

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

PROBE_TIMEOUT_SECONDS = 10


@blueprint.activity_trigger(input_name="request")
def publish_code(request: JsonObject) -> JsonObject:
    """Publish the job's deploy_ref, or ask once how the deployment being followed goes."""
    publish = PublishRequest.from_json(request)
    twin = publish.job
    settings = get_settings()

    def action(names: TwinNames) -> PublishOutcome:
        return publish_deploy_ref(
            arm_clients(twin.subscription_id), names, target_spec(twin.runtime_target),
            deploy_ref=twin.deploy_ref, package_url=settings.package_url(twin.deploy_ref),
            following=publish.following,
        )  # fmt: skip

    return run_step("publish", twin, action, while_status=fence_of(publish.fence))


@blueprint.activity_trigger(input_name="job")
def probe_brainstem(job: JsonObject) -> JsonObject:
    """One GET of the twin's readiness route: ready on a 2xx that reports the job's deploy_ref, or none."""
    twin = TwinJob.from_input(job)
    answer = probe(get_settings().readiness_url(twin_names(twin.name)), timeout=PROBE_TIMEOUT_SECONDS)
    if answer.status is None:
        return Probe(ready=False, status=None, reason=answer.reason).to_json()
    ready = answer.ok and answer.deploy_ref in (None, twin.deploy_ref)
    return Probe(ready=ready, status=answer.status, deploy_ref=answer.deploy_ref).to_json()
