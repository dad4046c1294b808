"""Activities that adopt twins made outside the control plane (``provision-twin-lite.sh``): reads only.

``adoption_candidates`` lists a subscription's groups tagged ``stack=TwinStack`` (one paged ARM list),
keeps those named as the script names them with no row yet, and reads each one's site (a GET: its
runtime decides the row's runtime_target) and, if the list did not carry them, the group's tags.
``adopt_brainstem`` asks the twin's readiness route and writes its row: ``active`` when it answers,
``errored`` with why when not. Neither writes to ARM: adoption never modifies a twin's resources.
Writing a row that exists is refused by Table Storage, so adopting twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import azure.durable_functions as df

from activities.payloads import JsonObject
from controlplane.arm import inventory, locks
from controlplane.arm.clients import arm_clients
from controlplane.domain.drift import owner_tag, twin_of_group
from controlplane.domain.errors import InvalidInput, TwinExists
from controlplane.domain.lifecycle import Status
from controlplane.domain.loop_messages import AdoptionCandidates, AdoptOutcome, AdoptRequest, SubscriptionRequest
from controlplane.domain.naming import twin_names
from controlplane.domain.placement import owner_slot, region_slot, subscription_slot
from controlplane.domain.twin import Twin, utc_now, validate_owner
from controlplane.registry import default_registry
from controlplane.settings import get_settings
from controlplane.twins.probe import probe

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

ADOPTED_DEPLOY_REF = "adopted"  # what an adopted twin runs when its route does not say
_NO_LIMIT = 1 << 30  # an adopted twin already exists: its places are recorded, never refused


@blueprint.activity_trigger(input_name="request")
def adoption_candidates(request: JsonObject) -> JsonObject:
    """Twins in one subscription that could be adopted, each with its names, owner tag and runtime, or why not."""
    subscription_id = SubscriptionRequest.from_json(request).subscription_id
    clients = arm_clients(subscription_id)
    registry = default_registry()
    held = inventory.scan(clients)
    candidates: list[JsonObject] = []
    skipped: list[JsonObject] = []
    for group in sorted(held.groups.values(), key=lambda g: g.name.lower()):
        names = twin_of_group(group)
        if names is None:
            skipped.append(
                {"resource_group": group.name, "why": "not named rg-twin-<name> (or its twin tag disagrees)"}
            )
            continue
        if registry.exists(names.cloud_id):
            continue  # already a row: adopted before, or made here
        if group.tags is None:  # the list did not carry the tags: read the group itself
            group = replace(group, tags=inventory.read_group_tags(clients, group.name))
        exists, target, runs = inventory.site_runtime(clients, names.resource_group, names.app_name)
        entry = {
            "name": names.name, "cloud_id": names.cloud_id, "resource_group": names.resource_group,
            "subscription_id": subscription_id, "region": group.location.lower().replace(" ", ""),
            "owner_tag": owner_tag(group), "runtime_target": target.name if target else None,
        }  # fmt: skip
        if not exists:
            skipped.append({**entry, "why": f"no Function App {names.app_name} in {names.resource_group}"})
        elif target is None:
            skipped.append({**entry, "why": f"{names.app_name} runs {runs}, which no runtime target matches"})
        else:
            candidates.append(entry)
    return AdoptionCandidates(subscription_id, candidates, skipped).to_json()


@blueprint.activity_trigger(input_name="request")
def adopt_brainstem(request: JsonObject) -> JsonObject:
    """Write the row of one candidate (an ``adoption_candidates`` entry) under the adoption's job id."""
    adopt = AdoptRequest.from_json(request)
    candidate, job_id = adopt.candidate, adopt.job_id
    owner = _owner(candidate.get("owner_tag"), adopt.owner)
    if owner is None:
        return AdoptOutcome(candidate["cloud_id"], skipped="no valid owner tag and no owner given").to_json()
    settings = get_settings()
    names = twin_names(candidate["name"])
    answer = probe(settings.readiness_url(names), timeout=settings.heartbeat_timeout_seconds)
    now = utc_now()
    row = Twin(
        cloud_id=names.cloud_id, name=names.name, owner=owner, region=candidate["region"],
        runtime_target=candidate["runtime_target"], deploy_ref=answer.deploy_ref or ADOPTED_DEPLOY_REF,
        status=Status.ACTIVE if answer.ok else Status.ERRORED, job_id=job_id, created_at=now, last_seen=now,
        url=settings.brainstem_url(names), subscription_id=candidate["subscription_id"],
        error=None if answer.ok else {
            "step": "adopt", "code": "NotReady",
            "message": f"{settings.readiness_path} answered {answer.status or answer.reason} when adopted",
        },
    )  # fmt: skip
    sub = candidate["subscription_id"]
    slots = {owner_slot(owner): _NO_LIMIT, region_slot(sub, row.region): _NO_LIMIT, subscription_slot(sub): _NO_LIMIT}
    try:
        default_registry().create(row, slots=slots)
    except TwinExists:
        # Ours from an earlier attempt of this same activity (its lock PUT failed after the row): go on.
        if default_registry().get(row.cloud_id).job_id != job_id:
            return AdoptOutcome(row.cloud_id, skipped="already has a row").to_json()
    if adopt.lock:  # opt-in: from now on only our teardown deletes it (controlplane.arm.locks)
        locks.ensure_delete_lock(arm_clients(sub), names)
    logger.info("adopted %s as %s (%s)", row.cloud_id, row.status.value, owner)
    return AdoptOutcome(row.cloud_id, status=row.status.value, owner=owner, error=row.error).to_json()


def _owner(tagged: object, given: object) -> str | None:
    """The owner tag when it is a valid owner, else the operator's; None when neither is."""
    for value in (tagged, given):
        if value:
            try:
                return validate_owner(value)
            except InvalidInput:
                continue
    return None
