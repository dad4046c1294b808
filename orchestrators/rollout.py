"""Roll a fleet to a new deploy_ref in waves, with a health gate and a way back.

One execution handles one batch (at most ``parallelism`` twins) and at most POLLS_PER_EXECUTION
polls, then continues as new: no execution's history holds more than that, whatever the fleet's
size or however long a batch takes.

    control? (pause: wait for the "control" event; abort: stop once the running batch has ended)
    -> start a batch of update jobs (each its own update_brainstem orchestration, fenced on the row)
    -> poll their outcomes (durable timer, or woken early by a "control" event)
    -> wave over its failure threshold: move the wave's updated twins back (in batches), halt
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
# Polls one execution makes before it continues as new: bounds its history whatever the batch takes.
POLLS_PER_EXECUTION = 10


@blueprint.orchestration_trigger(context_name="context", orchestration="rollout_brainstems")
def rollout_brainstems(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    state = dict(context.get_input())
    spec = RolloutSpec.from_dict(state["spec"])
    policy = Policy(**state["policy"])
    wave = state.get("wave", 0)

    control = yield from _obey_control(context, spec, policy)
    if control == "abort" and not state.get("pending"):
        return (yield from _finish(context, spec, RolloutStatus.ABORTED, policy, f"aborted in wave {wave}"))

    if not state.get("pending"):
        if state.get("rolling_back"):
            batch = {"spec": spec.to_dict(), "wave": wave, "wanted": spec.waves.parallelism}
            started = yield from _call(context, "start_rollback_batch", batch, policy)
            if started["started"] == 0:
                return (yield from _finish(context, spec, RolloutStatus.HALTED, policy, state["message"]))
        else:
            size = spec.waves.wave_size(wave)
            batch = {
                "spec": spec.to_dict(), "wave": wave, "cursor": state.get("cursor"),
                "batch": state.get("taken", 0),  # names the batch in its wave: a repeated attempt takes the same twins
                "wanted": min(spec.waves.parallelism, size - state.get("taken", 0)),
            }  # fmt: skip
            started = yield from _call(context, "start_rollout_batch", batch, policy)
            state.update(taken=state.get("taken", 0) + started["started"], cursor=started["cursor"])
            state.update(exhausted=started["exhausted"])
        state["pending"] = True

    counters, running = yield from _poll(context, spec, wave, policy)
    if running:  # still waiting: a fresh execution keeps the history small however long the batch takes
        context.continue_as_new(state)
        return {"status": RolloutStatus.RUNNING.value, "wave": wave}
    state["pending"] = False

    if control == "abort":
        return (yield from _finish(context, spec, RolloutStatus.ABORTED, policy, f"aborted in wave {wave}"))
    size = spec.waves.wave_size(wave)
    if not state.get("rolling_back") and wave_failed(spec.waves, size, counters.get("failed", 0)):
        state["rolling_back"] = True
        state["message"] = (
            f"wave {wave}: {counters.get('failed', 0)} of {size} failed (threshold "
            f"{spec.waves.max_failure_ratio:.0%}); its updated twins were moved back"
        )
    elif not state.get("rolling_back"):
        if state.get("exhausted"):
            message = f"all selected twins done in {wave + 1} waves"
            return (yield from _finish(context, spec, RolloutStatus.COMPLETED, policy, message))
        if state.get("taken", 0) >= size:
            state.update(wave=wave + 1, taken=0)
    context.continue_as_new(state)
    return {"status": RolloutStatus.RUNNING.value, "wave": wave}


def _obey_control(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, policy: Policy
) -> Generator[Any, Any, str]:
    """What the operator wants now; while it is "pause", wait for the next "control" event."""
    control = str((yield from _call(context, "rollout_control", spec.rollout_id, policy))["control"])
    if control != "pause":
        return control
    yield from _set_status(context, spec, RolloutStatus.PAUSED, policy, "paused by an operator")
    while control == "pause":
        yield context.wait_for_external_event(CONTROL_EVENT)
        control = str((yield from _call(context, "rollout_control", spec.rollout_id, policy))["control"])
    if control != "abort":
        yield from _set_status(context, spec, RolloutStatus.RUNNING, policy, "")
    return control


def _poll(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, wave: int, policy: Policy
) -> Generator[Any, Any, tuple[dict[str, Any], int]]:
    """Collect the wave's outcomes until nothing runs, at most POLLS_PER_EXECUTION times; (counters, running).

    Between polls a durable timer, or a "control" event, which only wakes us early.
    """
    for poll in range(POLLS_PER_EXECUTION):
        progress = yield from _call(context, "collect_rollout_outcomes", {"spec": spec.to_dict(), "wave": wave}, policy)
        context.set_custom_status(
            {"rollout_id": spec.rollout_id, "wave": wave, **progress["counters"], "running": progress["running"]}
        )
        if progress["running"] == 0 or poll == POLLS_PER_EXECUTION - 1:
            return dict(progress["counters"]), int(progress["running"])
        timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=policy.probe_interval_seconds))
        woken = yield context.task_any([timer, context.wait_for_external_event(CONTROL_EVENT)])
        if woken != timer:
            timer.cancel()
            return dict(progress["counters"]), int(progress["running"])
    raise AssertionError("unreachable")


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
