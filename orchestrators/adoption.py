"""Adopt twins made outside the control plane: scan each pool subscription, then write their rows.

    per subscription: adoption_candidates (one paged list, a GET per candidate) ->
    unless a dry run: adopt_brainstem for each, ADOPT_AT_ONCE at a time (a readiness probe and a row)

The instance id is every adopted row's ``job_id``. The output is the report the API shows: what was
(or, in a dry run, would be) adopted, what was skipped and why, which subscriptions could not be read.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.json_records import JsonObject
from controlplane.domain.loop_messages import (
    AdoptionCandidates,
    AdoptionInput,
    AdoptOutcome,
    AdoptRequest,
    SubscriptionRequest,
)  # fmt: skip
from orchestrators.retries import retry_options

blueprint = df.Blueprint()

ADOPT_AT_ONCE = 16


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.ADOPT)
def adopt_brainstems(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonObject]:
    request = AdoptionInput.from_json(context.get_input())
    retry = retry_options(request.policy)
    adopted: list[JsonObject] = []
    skipped: list[JsonObject] = []
    unreadable: dict[str, str] = {}
    report: JsonObject = {"dry_run": request.dry_run, "adopted": adopted, "skipped": skipped, "unreadable": unreadable}
    candidates: list[JsonObject] = []
    for subscription_id in request.subscriptions:
        try:
            answer = yield context.call_activity_with_retry(
                Activity.ADOPTION_CANDIDATES, retry, SubscriptionRequest(subscription_id).to_json()
            )
        except Exception as failure:  # this subscription could not be listed: say so, adopt the others
            unreadable[subscription_id] = str(failure)[:500]
            continue
        found = AdoptionCandidates.from_json(answer)
        candidates += found.candidates
        skipped += found.skipped
    if request.dry_run:
        report["would_adopt"] = candidates
        return report
    for start in range(0, len(candidates), ADOPT_AT_ONCE):
        batch = [
            context.call_activity_with_retry(
                Activity.ADOPT_BRAINSTEM,
                retry,
                AdoptRequest(candidate, request.owner, context.instance_id, request.lock).to_json(),
            )  # fmt: skip
            for candidate in candidates[start : start + ADOPT_AT_ONCE]
        ]
        for outcome in map(AdoptOutcome.from_json, (yield context.task_all(batch))):
            (skipped if outcome.skipped is not None else adopted).append(outcome.to_json())
    return report
