"""Roll a fleet to a new deploy_ref in waves, with a health gate and a way back.

Each execution is one look at the rollout, then it continues as new, so no execution's history
grows with the fleet's size or with how long updates take:

    control? (pause: wait for the "control" event; abort: start nothing more, end once none runs)
    -> collect the outcomes of the wave's running updates
    -> start updates for free places: at most ``parallelism`` of the wave's twins run at once in
       each subscription (a sliding window per subscription, so every subscription's ARM write
       bucket stays busy while slow twins finish, and a slow subscription holds back no other);
       a twin the wave takes while its subscription's window is full waits in that subscription's
       queue (controlplane.service.rollout_batches)
    -> wave over its failure threshold: start nothing more, then move the wave's updated twins back
    -> wave ended (all taken, none running): its bake, if it has one (orchestrators.rollout_gates: the
       wave's twins probed page by page, the error-rate query once a round, a durable timer between
       rounds; a twin that stops answering counts as failed, and the failure gate judges the wave again)
    -> wave passed: an operator's approval if ``approve_after`` names it, then the next wave (canary,
       then growing); selection exhausted: completed
    -> outside the maintenance window no update starts; with none running, sleep until it opens
    -> otherwise a durable timer (the poll interval), or a "control" event, then the next look

Per-twin work is a separate orchestration started through the Durable client by an activity, so
a twin's update has the same contract (and the same fence) whether a PATCH or a rollout asked.
Pause, resume and abort arrive as the external event "control"; the operator's wish is also kept
on the rollout's record, which each execution reads, because an event raised while an execution
continues as new can be lost.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity, Orchestration
from controlplane.domain.jobs import Policy
from controlplane.domain.rollouts import RolloutSpec, RolloutStatus, wave_failed
from orchestrators import rollout_gates as gates
from orchestrators.rollout_gates import call as _call
from orchestrators.rollout_gates import set_status as _set_status

blueprint = df.Blueprint()
CONTROL_EVENT = gates.CONTROL_EVENT
DRAIN_POLL_SECONDS = 1.0


@blueprint.orchestration_trigger(context_name="context", orchestration=Orchestration.ROLLOUT)
def rollout_brainstems(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    state = dict(context.get_input())
    spec = RolloutSpec.from_dict(state["spec"])
    policy = Policy(**state["policy"])
    wave = state.get("wave", 0)
    size = spec.waves.wave_size(wave)

    control = yield from _obey_control(context, spec, policy)
    outcome = yield from _call(
        context, Activity.COLLECT_ROLLOUT_OUTCOMES, {"spec": spec.to_dict(), "wave": wave}, policy
    )
    counters, running = dict(outcome["counters"]), int(outcome["running"])
    context.set_custom_status({"rollout_id": spec.rollout_id, "wave": wave, **counters, "running": running})
    wake_at = None  # when to look again, if not after the poll interval; now: at once

    if control == "abort":
        if running == 0:
            return (yield from _finish(context, spec, RolloutStatus.ABORTED, policy, f"aborted in wave {wave}"))
    elif state.get("rolling_back"):
        # Each subscription's window holds its twins rolling back (the activity fills its free places).
        batch = {"spec": spec.to_dict(), "wave": wave, "wanted": spec.waves.parallelism}
        moved_back = (yield from _call(context, Activity.START_ROLLBACK_BATCH, batch, policy))["started"]
        if moved_back == 0 and running == 0:
            return (yield from _finish(context, spec, RolloutStatus.HALTED, policy, state["message"]))
    elif wave_failed(spec.waves, size, counters.get("failed", 0)):
        # Over the threshold (at update, or during the bake): start nothing more; once the wave's
        # running updates have ended, move it back.
        if running == 0:
            state["rolling_back"] = True
            state["message"] = (
                f"wave {wave}: {counters.get('failed', 0)} of {size} failed (threshold "
                f"{spec.waves.max_failure_ratio:.0%}); its updated twins were moved back"
            )
            context.continue_as_new(state)
            return {"status": RolloutStatus.RUNNING.value, "wave": wave}
    elif state.get("baking"):
        verdict, why = yield from gates.bake_step(context, spec, state, policy)
        if verdict == "failed":
            state.update(rolling_back=True, message=why + "; its updated twins were moved back")
            state.pop("baking", None)
        if verdict in ("failed", "probing"):
            context.continue_as_new(state)
            return {"status": RolloutStatus.RUNNING.value, "wave": wave}
        if verdict == "waiting":
            wake_at = datetime.fromisoformat(state["baking"]["next_round_at"])
        else:  # passed: on to the next wave, as below
            passed = yield from _wave_passed(context, spec, state, policy)
            if passed is not None:
                return passed
            wave, size = state["wave"], spec.waves.wave_size(state["wave"])
            running = state.pop("running_after_fill", 0)
    else:
        running = yield from _fill(context, spec, state, running, policy)
        taken_all = state.get("taken", 0) >= size or state.get("exhausted")
        ended = taken_all and running == 0 and not state.get("queued")
        if ended and gates.start_bake(context, spec, state):  # the wave passed its failure gate: bake it
            context.continue_as_new(state)
            return {"status": RolloutStatus.RUNNING.value, "wave": wave}
        if ended:
            passed = yield from _wave_passed(context, spec, state, policy)
            if passed is not None:
                return passed
            wave, size = state["wave"], spec.waves.wave_size(state["wave"])
            running = state.pop("running_after_fill", 0)

    # Twins are updating: look again after the poll interval (a "control" event wakes us early). A
    # wave that has taken all its twins is draining: nothing new starts until it ends, so look often
    # (the next wave waits on it; each look costs one status read per twin still running).
    draining = (
        state.get("rolling_back") or control == "abort" or state.get("taken", 0) >= size or state.get("exhausted")
    )
    poll = DRAIN_POLL_SECONDS if draining else state.get("poll_seconds", 10)
    if wake_at is None:
        wake_at = yield from _outside_window(context, spec, state, running, policy)
    if wake_at is None:
        wake_at = context.current_utc_datetime + timedelta(seconds=poll)
    timer = context.create_timer(wake_at)
    woken = yield context.task_any([timer, context.wait_for_external_event(CONTROL_EVENT)])
    if woken != timer:
        timer.cancel()
    context.continue_as_new(state)
    return {"status": RolloutStatus.RUNNING.value, "wave": wave}


def _wave_passed(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, state: dict[str, Any], policy: Policy
) -> Generator[Any, Any, dict[str, Any] | None]:
    """The wave ended and passed its gates: the rollout's end, or (after an approval, if asked) the next wave."""
    wave = state.get("wave", 0)
    if state.get("exhausted"):  # the last wave ended, and it passed its gate
        message = f"all selected twins done in {wave + 1} waves"
        return (yield from _finish(context, spec, RolloutStatus.COMPLETED, policy, message))
    if spec.gates.needs_approval_after(wave):
        if (yield from gates.await_approval(context, spec, wave, policy)) == "abort":
            return (yield from _finish(context, spec, RolloutStatus.ABORTED, policy, f"aborted after wave {wave}"))
    # The next wave starts at once, in this execution.
    state.update(wave=wave + 1, taken=0, queued=False)
    state["running_after_fill"] = yield from _fill(context, spec, state, 0, policy)
    return None


def _outside_window(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, state: dict[str, Any], running: int, policy: Policy
) -> Generator[Any, Any, datetime | None]:
    """Outside the maintenance window with nothing running: sleep until it opens (said once on the record)."""
    opens = gates.window_opens_at(context, spec)
    if opens is None or running > 0 or state.get("rolling_back"):
        if opens is None and state.pop("window_closed", None):
            yield from _set_status(context, spec, RolloutStatus.RUNNING, policy, "")
        return None
    if not state.get("window_closed"):
        state["window_closed"] = True
        message = f"outside its maintenance window: no update starts until {opens.isoformat()}"
        yield from _set_status(context, spec, RolloutStatus.RUNNING, policy, message)
    latest: datetime = context.current_utc_datetime + gates.MAX_WINDOW_SLEEP
    return min(opens, latest)


def _fill(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, state: dict[str, Any], running: int, policy: Policy
) -> Generator[Any, Any, int]:
    """Start updates for the free places of every subscription's window in the current wave; how many now run.

    The batch fills each subscription's window from its queue, then walks the selection for the
    wave's places not yet taken; the windows' counts stay in the registry, so nothing here grows
    with the number of subscriptions or twins.
    """
    wave, taken = state.get("wave", 0), state.get("taken", 0)
    wanted = 0 if state.get("exhausted") else max(0, spec.waves.wave_size(wave) - taken)
    if (wanted == 0 and not state.get("queued")) or gates.window_opens_at(context, spec) is not None:
        return running  # nothing left to take or waiting, or outside the maintenance window
    number = state.get("batch", 0)  # names the batch: a repeated attempt takes the same twins
    batch = {"spec": spec.to_dict(), "wave": wave, "cursor": state.get("cursor"), "batch": number, "wanted": wanted}
    started = yield from _call(context, Activity.START_ROLLOUT_BATCH, batch, policy)
    state.update(
        batch=number + 1, taken=taken + int(started["took"]), cursor=started["cursor"],
        exhausted=bool(state.get("exhausted") or started["exhausted"]), queued=bool(started["queued"]),
    )  # fmt: skip
    return running + int(started["started"])


def _obey_control(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, policy: Policy
) -> Generator[Any, Any, str]:
    """What the operator wants now; while it is "pause", wait for the next "control" event."""
    control = str(
        (yield from _call(context, Activity.ROLLOUT_CONTROL, {"rollout_id": spec.rollout_id}, policy))["control"]
    )
    if control != "pause":
        return control
    yield from _set_status(context, spec, RolloutStatus.PAUSED, policy, "paused by an operator")
    while control == "pause":
        yield context.wait_for_external_event(CONTROL_EVENT)
        control = str(
            (yield from _call(context, Activity.ROLLOUT_CONTROL, {"rollout_id": spec.rollout_id}, policy))["control"]
        )
    if control != "abort":
        yield from _set_status(context, spec, RolloutStatus.RUNNING, policy, "")
    return control


def _finish(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, status: RolloutStatus, policy: Policy, message: str
) -> Generator[Any, Any, dict[str, Any]]:
    yield from _set_status(context, spec, status, policy, message)
    return {"status": status.value, "rollout_id": spec.rollout_id, "message": message}
