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

from controlplane.domain.jobs import Policy
from orchestrators.steps import retry_options

blueprint = df.Blueprint()

ADOPT_AT_ONCE = 16


@blueprint.orchestration_trigger(context_name="context", orchestration="adopt_brainstems")
def adopt_brainstems(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    request = context.get_input()
    retry = retry_options(Policy(**request["policy"]))
    report: dict[str, Any] = {"dry_run": bool(request["dry_run"]), "adopted": [], "skipped": [], "unreadable": {}}
    candidates: list[dict[str, Any]] = []
    for subscription_id in request["subscriptions"]:
        try:
            found = yield context.call_activity_with_retry(
                "adoption_candidates", retry, {"subscription_id": subscription_id}
            )
        except Exception as failure:  # this subscription could not be listed: say so, adopt the others
            report["unreadable"][subscription_id] = str(failure)[:500]
            continue
        candidates += found["candidates"]
        report["skipped"] += found["skipped"]
    if request["dry_run"]:
        report["would_adopt"] = candidates
        return report
    for start in range(0, len(candidates), ADOPT_AT_ONCE):
        batch = [
            context.call_activity_with_retry(
                "adopt_brainstem",
                retry,
                {
                    "candidate": candidate,
                    "owner": request.get("owner"),
                    "job_id": context.instance_id,
                    "lock": bool(request.get("lock")),
                },
            )  # fmt: skip
            for candidate in candidates[start : start + ADOPT_AT_ONCE]
        ]
        for outcome in (yield context.task_all(batch)):
            (report["skipped"] if "skipped" in outcome else report["adopted"]).append(outcome)
    return report
