"""A model of a fleet create at the deployed settings, from a run's measured per-twin costs.

``python -m bench.scale_model bench/results/<run>.json [twins] [subscriptions]`` predicts the create
of ``twins`` (default 100,000) over ``subscriptions`` (default 106) and names the binding limit.

Each limit is a least time of its own, so the create takes at least the largest (and, with the work
spread evenly and pipelined, about that):

- ARM: each subscription's writes bucket (200 burst, 10/s) admits its twins' writes, at the budget's
  9.5/s (controlplane.arm.fleet_budget keeps 0.95 of ARM's rate), subscriptions in parallel;
- activity slots: twins × slot-seconds per twin over the app's slots (host.json × instances);
- the backend: twins × Durable actions per twin over its actions/s (when it has a published rate).

The model is checked against the measured runs it is given: its prediction for each run's own size
over that run's measured time is reported beside the 100k figure (docs/fleet-scale.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.fleet_rig import WRITE_BUCKET

BUDGET_SHARE = 0.95


def predict(
    twins: int, subscriptions: int, *, writes_per_twin: float, slot_seconds_per_twin: float,
    actions_per_twin: float, activity_slots: int, backend_actions_per_second: float | None,
) -> dict[str, Any]:  # fmt: skip
    per_subscription = twins / subscriptions
    arm = max(0.0, per_subscription * writes_per_twin - WRITE_BUCKET[0]) / (WRITE_BUCKET[1] * BUDGET_SHARE)
    arm_bound = max(0.0, per_subscription * writes_per_twin - WRITE_BUCKET[0]) / WRITE_BUCKET[1]
    limits = {
        "arm": arm,
        "activity_slots": twins * slot_seconds_per_twin / activity_slots,
    }
    if backend_actions_per_second:
        limits["backend_actions"] = twins * actions_per_twin / backend_actions_per_second
    binding = max(limits, key=lambda k: limits[k])
    return {
        "twins": twins,
        "subscriptions": subscriptions,
        "seconds_by_limit": {k: round(v, 1) for k, v in limits.items()},
        "predicted_seconds": round(limits[binding], 1),
        "arm_bound_seconds": round(arm_bound, 1),
        "predicted_over_arm_bound": round(limits[binding] / arm_bound, 3) if arm_bound else None,
        "binding_limit": binding,
    }


def from_run(run: dict[str, Any], twins: int, subscriptions: int, **overrides: Any) -> dict[str, Any]:
    durable = run["durable"]
    inputs: dict[str, Any] = {
        "writes_per_twin": run["arm_writes_per_twin"],
        "slot_seconds_per_twin": durable["activity_slot_seconds_per_twin"],
        "actions_per_twin": durable["durable_actions_per_twin"],
        "activity_slots": durable["limits"]["activity_slots"],
        "backend_actions_per_second": durable["limits"]["backend_actions_per_second"],
    }
    inputs.update(overrides)
    return {"inputs": inputs, **predict(twins, subscriptions, **inputs)}


def main(argv: list[str]) -> int:
    run = json.loads(Path(argv[0]).read_text())
    twins = int(argv[1]) if len(argv) > 1 else 100_000
    subscriptions = int(argv[2]) if len(argv) > 2 else 106
    own = from_run(run, run["twins"], run["subscriptions"])
    report = {
        "from": argv[0],
        "check_against_the_run": {
            "predicted_seconds": own["predicted_seconds"],
            "measured_seconds": run["simulated_seconds"],
            "measured_over_predicted": round(run["simulated_seconds"] / own["predicted_seconds"], 3),
        },
        "prediction": from_run(run, twins, subscriptions),
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
