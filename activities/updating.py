"""Activities of an update: refresh a twin's site (settings), then record the outcome.

``publish_update`` reuses provisioning's build (the site PUT is create-or-update with the operator's
current env keys; the plan is kept). The code itself then goes through ``publish_code``
(activities/code.py), the same path a new twin's takes. All fenced on ``updating``: a teardown
that took the twin over stops the update at its next step.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.payloads import JsonObject
from activities.provisioning import build_function_app
from activities.steps import run_step
from controlplane.arm import resource_groups
from controlplane.arm.clients import arm_clients
from controlplane.domain.errors import ConcurrentUpdate
from controlplane.domain.jobs import BrainstemJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import BrainstemNames, brainstem_names
from controlplane.domain.step_errors import StepError
from controlplane.registry import default_registry
from controlplane.settings import get_settings

blueprint = df.Blueprint()


@blueprint.activity_trigger(input_name="job")
def publish_update(job: JsonObject) -> dict[str, Any]:
    """Refresh the twin's site for ``job.deploy_ref`` (a rollback passes the previous ref); code comes next."""
    twin = BrainstemJob.from_input(job)

    def action(names: BrainstemNames) -> dict[str, Any]:
        if twin.repair:  # configuration drift: the group's tags go back to what the registry says
            tags = resource_groups.twin_tags(names, org=get_settings().org_tag, owner=twin.owner)
            resource_groups.ensure_resource_group(
                arm_clients(twin.subscription_id), names, region=twin.region, tags=tags
            )
        return build_function_app(twin, names, update=True)

    return run_step("publish", twin, action, while_status=Status.UPDATING)


@blueprint.activity_trigger(input_name="job")
def mark_updated(job: JsonObject) -> dict[str, Any]:
    """updating -> active on the new deploy_ref; the old one is kept as previous_deploy_ref."""
    twin = BrainstemJob.from_input(job)
    try:
        row = default_registry().transition(
            twin.cloud_id, Status.ACTIVE, for_job=twin.job_id, deploy_ref=twin.deploy_ref,
            previous_deploy_ref=twin.previous_deploy_ref, target_deploy_ref=None, error=None,
            app_settings=twin.app_settings, target_app_settings=None, drift=None,
            url=get_settings().brainstem_url(brainstem_names(twin.name)),
        )  # fmt: skip
    except ConcurrentUpdate:
        return {"fenced": True}
    return {"url": row.url, "deploy_ref": row.deploy_ref}


@blueprint.activity_trigger(input_name="outcome")
def mark_update_failed(outcome: JsonObject) -> dict[str, Any]:
    """The update failed: active again on the previous code (rolled back), or errored if that failed too."""
    twin = BrainstemJob.from_input(outcome["job"])
    error = StepError(**outcome["error"])
    rolled_back = bool(outcome.get("rolled_back"))
    try:
        default_registry().transition(
            twin.cloud_id, Status.ACTIVE if rolled_back else Status.ERRORED, for_job=twin.job_id,
            deploy_ref=twin.previous_deploy_ref or twin.deploy_ref, target_deploy_ref=None, error=error.to_dict(),
            app_settings=twin.previous_app_settings, target_app_settings=None,
        )  # fmt: skip
    except ConcurrentUpdate:
        return {"fenced": True}
    return {"recorded": True}
