"""The rollout's waits between waves, as small generators ``rollout_brainstems`` reaches with ``yield from``.

* ``bake_step``: one page of a bake round (one activity), then the error-rate query once a round is
  done; the rollout continues as new between pages and sleeps on a durable timer between rounds, so
  a bake of any length over a wave of any size keeps every execution's history small.
* ``await_approval``: stop in ``awaiting_approval`` and wait, in one execution, for the "control"
  event; the approval itself is read from the rollout's record (the event only wakes us).
* ``window_opens_at``: when the maintenance window next opens, from the orchestration's clock.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import azure.durable_functions as df

from controlplane.domain.durable_names import Activity
from controlplane.domain.jobs import Policy
from controlplane.domain.rollouts import RolloutSpec, RolloutStatus
from orchestrators.retries import retry_options

CONTROL_EVENT = "control"
# A closed window is slept through in steps of at most this: the look on waking is cheap, and no
# single durable timer is longer than the storage provider likes.
MAX_WINDOW_SLEEP = timedelta(hours=6)


def call(
    context: df.DurableOrchestrationContext, activity: Activity, payload: Any, policy: Policy
) -> Generator[Any, Any, dict[str, Any]]:
    result = yield context.call_activity_with_retry(activity, retry_options(policy), payload)
    return dict(result)


def set_status(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, status: RolloutStatus, policy: Policy,
    message: str, *, awaiting_wave: int | None = None,
) -> Generator[Any, Any, dict[str, Any]]:  # fmt: skip
    change = {"rollout_id": spec.rollout_id, "status": status.value, "message": message, "awaiting_wave": awaiting_wave}
    return (yield from call(context, Activity.SET_ROLLOUT_STATUS, change, policy))


def start_bake(context: df.DurableOrchestrationContext, spec: RolloutSpec, state: dict[str, Any]) -> bool:
    """Begin the current wave's bake if it has one (and twins to bake); True when it began."""
    seconds = spec.gates.bake_for(int(state.get("wave", 0)))
    if seconds <= 0 or state.get("taken", 0) == 0 or state.get("baked") == state.get("wave", 0):
        return False
    now = context.current_utc_datetime
    state["baking"] = {
        "since": now.isoformat(), "until": (now + timedelta(seconds=seconds)).isoformat(),
        "after": None, "next_round_at": now.isoformat(), "rounds": 0,
    }  # fmt: skip
    return True


def bake_step(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, state: dict[str, Any], policy: Policy
) -> Generator[Any, Any, tuple[str, str]]:
    """One step of the bake: ("probing", "") look again at once; ("waiting", "") sleep until the next round;
    ("passed", "") the bake is over and held; ("failed", why) the error-rate gate failed."""
    bake, wave, now = state["baking"], int(state.get("wave", 0)), context.current_utc_datetime
    page = yield from call(
        context, Activity.PROBE_BAKING_WAVE, {"spec": spec.to_dict(), "wave": wave, "after": bake["after"]}, policy
    )
    bake["after"] = page["next"]
    if page["next"] is not None or page["failed"]:
        return "probing", ""  # more of the round to probe, or failures the failure gate must judge first
    bake["rounds"] += 1
    if spec.gates.error_rate is not None:
        window = {"spec": spec.to_dict(), "since": bake["since"], "until": now.isoformat()}
        judged = yield from call(context, Activity.JUDGE_ROLLOUT_ERROR_RATE, window, policy)
        if not judged["passed"]:
            return "failed", f"wave {wave} failed its bake: {judged['reason']}"
    until = datetime.fromisoformat(bake["until"])
    if now >= until:
        state["baked"] = wave
        del state["baking"]
        return "passed", ""
    bake["next_round_at"] = min(now + timedelta(seconds=spec.gates.probe_interval_seconds), until).isoformat()
    return "waiting", ""


def await_approval(
    context: df.DurableOrchestrationContext, spec: RolloutSpec, wave: int, policy: Policy
) -> Generator[Any, Any, str]:
    """Wait for an operator to approve the waves after ``wave``: "approved", or "abort" if aborted meanwhile."""
    message = f"wave {wave} passed its gate; waiting for an operator's approval (POST .../approve)"
    yield from set_status(context, spec, RolloutStatus.AWAITING_APPROVAL, policy, message, awaiting_wave=wave)
    while True:
        seen = yield from call(context, Activity.ROLLOUT_CONTROL, {"rollout_id": spec.rollout_id}, policy)
        if seen["control"] == "abort":
            return "abort"
        if wave in seen["approved"]:
            break
        yield context.wait_for_external_event(CONTROL_EVENT)
    yield from set_status(context, spec, RolloutStatus.RUNNING, policy, "")
    return "approved"


def window_opens_at(context: df.DurableOrchestrationContext, spec: RolloutSpec) -> datetime | None:
    """None while updates may start (no window, or it is open); otherwise when the window opens next."""
    window, now = spec.gates.window, context.current_utc_datetime
    if window is None or window.is_open(now):
        return None
    return window.next_open(now)
