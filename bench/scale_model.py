"""A model of a fleet create and rollout at the deployed settings, from runs' measured per-twin costs.

``python -m bench.scale_model RUN.json [RUN.json ...] [--twins 100000] [--subscriptions 106]`` checks
the model against every run it is given (its prediction for the run's own size over the run's
measured time), reports how each per-twin cost moved between the runs, and predicts the create (and,
from a run that has one, the rollout) of ``--twins`` over ``--subscriptions`` from the largest run,
naming the binding limit. A run is ``bench.run.throughput``'s JSON or ``bench.rollouts``' (whose
``create`` holds its fleet's create).

Each limit is a least time of its own, so the work takes at least the largest (and, with the work
spread evenly and pipelined, about that):

- ARM: each subscription's writes bucket (200 burst, 10/s) admits its twins' writes, at the budget's
  9.5/s (controlplane.arm.fleet_budget keeps 0.95 of ARM's rate), subscriptions in parallel; for a
  rollout, its waves' bound (``bench.rollouts.bound_seconds``) with the bucket refilled at 9.5/s;
- activity slots: twins × slot-seconds per twin over the app's slots (host.json × instances);
- the backend: twins × Durable actions per twin over its actions/s (when it has a published rate).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.fleet_rig import STEP_LATENCY, WRITE_BUCKET

BUDGET_SHARE = 0.95
# One twin's own critical path (group, then account and plan side by side, then site: bench.run's
# bound): no create of any size is quicker, so a small run's ARM term is at least this.
CREATE_CHAIN_SECONDS = (
    STEP_LATENCY["resource_groups.create_or_update"]
    + max(STEP_LATENCY["storage_accounts.create"], STEP_LATENCY["server_farms.create_or_update"])
    + STEP_LATENCY["sites.create_or_update"]
)


def predict(
    twins: int, subscriptions: int, *, writes_per_twin: float, slot_seconds_per_twin: float,
    actions_per_twin: float, activity_slots: int, backend_actions_per_second: float | None,
) -> dict[str, Any]:  # fmt: skip
    per_subscription = twins / subscriptions
    arm = max(0.0, per_subscription * writes_per_twin - WRITE_BUCKET[0]) / (WRITE_BUCKET[1] * BUDGET_SHARE)
    arm_bound = max(0.0, per_subscription * writes_per_twin - WRITE_BUCKET[0]) / WRITE_BUCKET[1]
    return _limits(twins, subscriptions, max(arm, CREATE_CHAIN_SECONDS), max(arm_bound, CREATE_CHAIN_SECONDS),
                   twins * slot_seconds_per_twin / activity_slots, twins * actions_per_twin,
                   backend_actions_per_second)  # fmt: skip


def predict_rollout(
    twins: int, subscriptions: int, *, writes_per_twin: float, slot_seconds_per_twin: float,
    actions_per_twin: float, activity_slots: int, backend_actions_per_second: float | None,
) -> dict[str, Any]:  # fmt: skip
    """A rollout of ``twins`` in the bench's plan for that fleet (``bench.rollouts.plan``)."""
    from bench.rollouts import bound_seconds, plan, wave_sizes

    waves = plan(twins, subscriptions)
    sizes = wave_sizes(twins, waves)
    arm = bound_seconds(
        sizes, subscriptions, waves["parallelism"], writes_per_twin, rate=WRITE_BUCKET[1] * BUDGET_SHARE
    )
    arm_bound = bound_seconds(sizes, subscriptions, waves["parallelism"], writes_per_twin)
    limits = _limits(twins, subscriptions, arm, arm_bound, twins * slot_seconds_per_twin / activity_slots,
                     twins * actions_per_twin, backend_actions_per_second)  # fmt: skip
    return {"waves": sizes, "parallelism": waves["parallelism"], **limits}


def _limits(
    twins: int, subscriptions: int, arm: float, arm_bound: float, slots: float, actions: float,
    backend_actions_per_second: float | None,
) -> dict[str, Any]:  # fmt: skip
    limits = {"arm": arm, "activity_slots": slots}
    if backend_actions_per_second:
        limits["backend_actions"] = actions / backend_actions_per_second
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


def create_of(run: dict[str, Any]) -> dict[str, Any]:
    """A run's create figures, with its size: a throughput run's own, a rollout run's ``create``."""
    return {**run.get("create", run), "twins": run["twins"], "subscriptions": run["subscriptions"]}


def create_inputs(run: dict[str, Any]) -> dict[str, Any]:
    create = create_of(run)
    durable = create["durable"]
    return {
        "writes_per_twin": create["arm_writes_per_twin"],
        "slot_seconds_per_twin": durable["activity_slot_seconds_per_twin"],
        "actions_per_twin": durable["durable_actions_per_twin"],
        "activity_slots": durable["limits"]["activity_slots"],
        "backend_actions_per_second": durable["limits"]["backend_actions_per_second"],
    }


def rollout_inputs(run: dict[str, Any]) -> dict[str, Any]:
    per_update = run["per_update"]
    return {
        **create_inputs(run),
        "writes_per_twin": run["arm_writes_per_twin"],
        "slot_seconds_per_twin": per_update["activity_slot_seconds"],
        "actions_per_twin": per_update["durable_actions"],
    }


def from_run(run: dict[str, Any], twins: int, subscriptions: int, **overrides: Any) -> dict[str, Any]:
    inputs = {**create_inputs(run), **overrides}
    return {"inputs": inputs, **predict(twins, subscriptions, **inputs)}


def check(run: dict[str, Any], source: str) -> dict[str, Any]:
    """The model's time for the run's own size beside the run's measured time."""
    create = create_of(run)
    own = predict(run["twins"], run["subscriptions"], **create_inputs(run))
    checked: dict[str, Any] = {
        "from": source, "twins": run["twins"], "subscriptions": run["subscriptions"],
        "create": {"predicted_seconds": own["predicted_seconds"], "measured_seconds": create["simulated_seconds"],
                   "measured_over_predicted": round(create["simulated_seconds"] / own["predicted_seconds"], 3)},
    }  # fmt: skip
    if "per_update" in run:
        rollout = predict_rollout(run["twins"], run["subscriptions"], **rollout_inputs(run))
        checked["rollout"] = {
            "predicted_seconds": rollout["predicted_seconds"], "measured_seconds": run["simulated_seconds"],
            "measured_over_predicted": round(run["simulated_seconds"] / rollout["predicted_seconds"], 3),
        }  # fmt: skip
    return checked


def per_twin_costs(run: dict[str, Any]) -> dict[str, float]:
    create = create_of(run)
    costs = {
        "activity_slot_seconds": create["durable"]["activity_slot_seconds_per_twin"],
        "durable_actions": create["durable"]["durable_actions_per_twin"],
        "arm_writes": create["arm_writes_per_twin"],
    }
    for key, value in create.get("table_operations_per_twin", {}).items():
        costs[f"table_{key}"] = value
    return costs


def spread(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each per-twin cost in every run, and the largest over the smallest (issue 29: within 1.10)."""
    costs = [per_twin_costs(run) for run in runs]
    shared = set.intersection(*(set(c) for c in costs))
    return {
        key: {"values": [c[key] for c in costs],
              "largest_over_smallest": round(max(c[key] for c in costs) / max(1e-9, min(c[key] for c in costs)), 3)}
        for key in sorted(shared)
    }  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_model")
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--twins", type=int, default=100_000)
    parser.add_argument("--subscriptions", type=int, default=106)
    args = parser.parse_args(argv)
    runs = [json.loads(path.read_text()) for path in args.runs]
    largest = max(runs, key=lambda run: run["twins"])
    report: dict[str, Any] = {
        "checks": [check(run, str(path)) for run, path in zip(runs, args.runs, strict=True)],
        "per_twin_costs": spread(runs),
        "prediction_from": str(args.runs[runs.index(largest)]),
        "create": from_run(largest, args.twins, args.subscriptions),
    }
    if "per_update" in largest:
        inputs = rollout_inputs(largest)
        report["rollout"] = {"inputs": inputs, **predict_rollout(args.twins, args.subscriptions, **inputs)}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
