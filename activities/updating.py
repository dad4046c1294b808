"""Activities of an update: refresh a twin's site (settings), then record the outcome.

``publish_update`` reuses provisioning's build (the site PUT is create-or-update with the operator's
current env keys; the plan is kept). The code itself then goes through ``publish_code``
(activities/code.py), the same path a new twin's takes. All fenced on ``updating``: a teardown
that took the twin over stops the update at its next step.
"""

from __future__ import annotations

import azure.durable_functions as df

from activities.payloads import JsonObject
from activities.provisioning import begin_site, tags_for
from activities.steps import run_step
from controlplane.arm import function_apps, resource_groups
from controlplane.arm.clients import arm_clients
from controlplane.arm.runtime_targets import builder_for
from controlplane.domain.errors import ConcurrentUpdate
from controlplane.domain.jobs import TwinJob
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.domain.runtime_targets import target_spec
from controlplane.domain.step_outputs import Activated, Begun, Recorded
from controlplane.domain.step_requests import ErrorRecord
from controlplane.domain.step_results import Fenced
from controlplane.registry import default_registry
from controlplane.settings import get_settings

blueprint = df.Blueprint()


@blueprint.activity_trigger(input_name="job")
def publish_update(job: JsonObject) -> JsonObject:
    """Refresh the twin's site for ``job.deploy_ref`` (a rollback passes the previous ref): send its PUT, and
    hand back the operation to poll (then ``finish_function_app``); code comes next.

    The plan is kept (one read, not a write: ARM's write budget goes to sites); only a plan that has
    gone is made again, waited for here (rare: a twin whose plan someone deleted)."""
    twin = TwinJob.from_input(job)

    def action(names: TwinNames) -> Begun:
        clients = arm_clients(twin.subscription_id)
        if twin.repair:  # configuration drift: the group's tags go back to what the registry says
            resource_groups.ensure_resource_group(clients, names, region=twin.region, tags=tags_for(twin, names))
        builder = builder_for(target_spec(twin.runtime_target))
        body = builder.plan_body(names, region=twin.region, tags=tags_for(twin, names))
        function_apps.plan_for_update(clients, names, body)
        return begin_site(twin, names)

    return run_step("publish", twin, action, while_status=Status.UPDATING)


@blueprint.activity_trigger(input_name="job")
def mark_updated(job: JsonObject) -> JsonObject:
    """updating -> active on the new deploy_ref; the old one is kept as previous_deploy_ref."""
    twin = TwinJob.from_input(job)
    try:
        row = default_registry().transition(
            twin.cloud_id, Status.ACTIVE, for_job=twin.job_id, deploy_ref=twin.deploy_ref,
            previous_deploy_ref=twin.previous_deploy_ref, target_deploy_ref=None, error=None,
            app_settings=twin.app_settings, target_app_settings=None, drift=None,
            url=get_settings().brainstem_url(twin_names(twin.name)),
        )  # fmt: skip
    except ConcurrentUpdate:
        return Fenced().to_json()
    return Activated(row.url, row.deploy_ref).to_json()


@blueprint.activity_trigger(input_name="outcome")
def mark_update_failed(outcome: JsonObject) -> JsonObject:
    """The update failed: active again on the previous code (rolled back), or errored if that failed too."""
    record = ErrorRecord.from_json(outcome)
    twin, error, rolled_back = record.job, record.error, bool(record.rolled_back)
    try:
        default_registry().transition(
            twin.cloud_id, Status.ACTIVE if rolled_back else Status.ERRORED, for_job=twin.job_id,
            deploy_ref=twin.previous_deploy_ref or twin.deploy_ref, target_deploy_ref=None, error=error.to_dict(),
            app_settings=twin.previous_app_settings, target_app_settings=None,
        )  # fmt: skip
    except ConcurrentUpdate:
        return Fenced().to_json()
    return Recorded().to_json()
