"""What a run cost the Durable side, per twin, and which of the deployed app's limits bound it.

The driver (``sandbox/durable/driver.py``) runs at the deployed app's concurrency (host.json ×
instances, see ``sandbox/durable/host_limits.py``) and meters its activity slots and backend actions.
"""

from __future__ import annotations

from typing import Any

from sandbox.durable.driver import OrchestrationDriver


def durable_costs(
    driver: OrchestrationDriver, twins: int, simulated_seconds: float, arm_utilisation: float
) -> dict[str, Any]:
    """Slot-seconds and Durable actions per twin; each limit's utilisation; the one that binds.

    ``arm_utilisation`` is the run's writes over what ARM's buckets allowed in its time (1.0: ARM binds).
    A limit binds when work waited on it: activities for a slot, actions for the backend's rate.
    """
    slots = driver.slots.snapshot()
    limits = driver.limits
    slot_seconds = sum(slots["slot_seconds"].values())
    activity_utilisation = slot_seconds / max(1e-9, slots["slots"] * simulated_seconds)
    rate = driver.backend.actions_per_second
    backend_utilisation = driver.backend.actions / (rate * simulated_seconds) if rate else None
    utilisation = {
        "arm_writes": round(arm_utilisation, 3),
        "activity_slots": round(activity_utilisation, 3),
        "backend_actions": None if backend_utilisation is None else round(backend_utilisation, 3),
    }
    waits = {
        "activity_slot_wait_seconds_per_twin": round(slots["wait_seconds"] / twins, 3),
        "backend_wait_seconds_per_twin": round(driver.backend.delayed_seconds / twins, 3),
    }
    # ARM binds unless work queued for one of the app's own limits for a noticeable share of the run.
    queued = {"activity_slots": slots["wait_seconds"], "backend_actions": driver.backend.delayed_seconds}
    worst = max(queued, key=lambda k: queued[k])
    binding = worst if queued[worst] / twins > 1.0 else "arm"
    return {
        "limits": None
        if limits is None
        else {
            "instances": limits.instances,
            "activity_slots": limits.activity_slots,
            "orchestrator_slots": limits.orchestrator_slots,
            "function_timeout_seconds": limits.function_timeout_seconds,
            "backend": limits.backend,
            "backend_actions_per_second": limits.backend_actions_per_second,
        },
        "activity_slot_seconds_per_twin": round(slot_seconds / twins, 2),
        "activity_slot_seconds_per_twin_by_activity": {
            name: round(seconds / twins, 2) for name, seconds in sorted(slots["slot_seconds"].items())
        },
        "activities_per_twin": round(slots["runs"] / twins, 2),
        "activity_slots_peak_in_use": slots["peak_in_use"],
        "durable_actions_per_twin": round(driver.backend.actions / twins, 2),
        "utilisation": utilisation,
        **waits,
        "binding_limit": binding,
    }
