"""Roll a fleet to a new deploy_ref in waves, with a health gate and a way back.

One execution handles one batch (at most ``parallelism`` twins), then continues as new: the
history never holds more than a batch, whatever the fleet's size.

    control? (pause: wait for the "control" event; abort: stop)
    -> start a batch of update jobs (each its own update_brainstem orchestration, fenced on the row)
    -> poll their outcomes (durable timer, or woken early by a "control" event)
    -> wave over its failure threshold: move the wave's updated twins back, halt
    -> wave complete: next wave (canary, then growing); selection exhausted: completed

Per-twin work is a separate orchestration started through the Durable client by an activity, so
a twin's update has the same contract (and the same fence) whether a PATCH or a rollout asked.
Pause, resume and abort arrive as the external event "control"; the operator's wish is also kept
on the rollout's record, which each execution reads, because an event raised while an execution
continues as new can be lost.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.jobs import Policy
from controlplane.domain.rollouts import RolloutSpec, RolloutStatus, wave_failed
from orchestrators.steps import retry_options

blueprint = df.Blueprint()
CONTROL_EVENT = "control"


@blueprint.orchestration_trigger(context_name="context", orchestration="rollout_brainstems")
def rollout_brainstems(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    state = context.get_input()
    spec = RolloutSpec.from_dict(state["spec"])
    policy = Policy(**state["policy"])
    wave, taken = state.get("wave", 0), state.get("taken", 0)
    size = spec.waves.wave_size(wave)

    control = (yield from _call(context, "rollout_control", spec.rollout_id, policy))["control"]
    while control == "pause":
        yield from _set_status(context, spec, RolloutStatus.PAUSED, policy, "paused by an operator")
        yield context.wait_for_external_event(CONTROL_EVENT)
        control = (yield from _call(context, "rollout_control", spec.rollout_id, policy))["control"]
    if control == "abort":
        yield from _wait_for_running(context, spec, wave, policy)
        return (yield from _finish(context, spec, RolloutStatus.ABORTED, policy, f"aborted in wave {wave}"))
    if state.get("paused_before"):
        yield from _set_status(context, spec, RolloutStatus.RUNNING, policy, "")

    batch = {
        "spec": spec.to_dict(),
        "wave": wave,
        "cursor": state.get("cursor"),
        "wanted": min(spec.waves.parallelism, size - taken),
    }
    started = yield from _call(context, "start_rollout_batch", batch, policy)
    counters = yield from _wait_for_running(context, spec, wave, policy)
    taken += started["started"]

    if wave_failed(spec.waves, size, counters.get("failed", 0)):
        yield from _roll_back(context, spec, wave, policy)
        message = f"wave {wave}: {counters.get('failed', 0)} of {size} failed (threshold {spec.waves.max_failure_ratio:.0%}); its updated twins were moved back"
        return (yield from _finish(context, spec, RolloutStatus.HALTED, policy, message))
    if started["exhausted"]:
        return (
            yield from _finish(
                context, spec, RolloutStatus.COMPLETED, policy, f"all selected twins done in {wave + 1} waves"
            )
        )

    next_state = {**state, "cursor": started["cursor"], "paused_before": control == "pause"}
    next_state.update({"wave": wave + 1, "taken": 0} if taken >= size else {"wave": wave, "taken": taken})
    context.continue_as_new(next_state)
    return {"status": RolloutStatus.RUNNING.value, "wave": wave}


def _wait_for_running(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, wave: int, policy: Policy
) -> Generator[Any, Any, dict[str, Any]]:
    """Poll the wave's running updates until none is left; a "control" event only wakes us early."""
    while True:
        progress = yield from _call(
            context, "collect_rollout_outcomes", {"rollout_id": spec.rollout_id, "wave": wave}, policy
        )
        context.set_custom_status(
            {"rollout_id": spec.rollout_id, "wave": wave, **progress["counters"], "running": progress["running"]}
        )
        if progress["running"] == 0:
            return dict(progress["counters"])
        timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=policy.probe_interval_seconds))
        woken = yield context.task_any([timer, context.wait_for_external_event(CONTROL_EVENT)])
        if woken != timer:
            timer.cancel()


def _roll_back(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, wave: int, policy: Policy
) -> Generator[Any, Any, None]:
    while True:
        batch = {"spec": spec.to_dict(), "wave": wave, "wanted": spec.waves.parallelism}
        started = yield from _call(context, "start_rollback_batch", batch, policy)
        yield from _wait_for_running(context, spec, wave, policy)
        if started["started"] == 0:
            return


def _set_status(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, status: RolloutStatus, policy: Policy, message: str
) -> Generator[Any, Any, dict[str, Any]]:
    change = {"rollout_id": spec.rollout_id, "status": status.value, "message": message}
    return (yield from _call(context, "set_rollout_status", change, policy))


def _finish(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, status: RolloutStatus, policy: Policy, message: str
) -> Generator[Any, Any, dict[str, Any]]:
    yield from _set_status(context, spec, status, policy, message)
    return {"status": status.value, "rollout_id": spec.rollout_id, "message": message}


def _call(
    context: df.DurableOrchestrationContext, activity: str, payload: Any, policy: Policy
) -> Generator[Any, Any, dict[str, Any]]:
    result = yield context.call_activity_with_retry(activity, retry_options(policy), payload)
    return dict(result)
