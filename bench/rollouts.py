"""Rollout throughput: a provisioned fleet moved to a new deploy_ref in waves, against ARM's throttles.

Reports achieved twins/hour over the most any rollout of the same plan could reach, and the largest
orchestration history the rollout produced. The bound is a true upper bound (the least time, so
achieved/bound can never exceed 1): see ``bound_seconds``.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from bench.fleet_rig import STEP_LATENCY, TARGET_REAL_SECONDS, WRITE_BUCKET, DriverClient, accept_fleet, throttled_rig
from bench.provenance import machine_and_commit, run_settings
from bench.table_counter import TABLE_KEYS
from controlplane.domain.rollouts import MAX_PARALLELISM
from orchestrators.steps import ARM_REQUESTS

# An update refreshes the site (20 s; the plan is kept, one GET), then publishes as a create does;
# readiness answers at once here.
UPDATE_CHAIN_SECONDS = STEP_LATENCY["sites.create_or_update"]
# publish_update: appsettings list, listKeys, site PUT; publish_code: listKeys, appsettings list and PUT,
# sync (measured: see arm_writes_per_twin). The last is the syncfunctiontriggers POST, answered at
# once: no tail after it.
UPDATE_WRITES_PER_TWIN = 7
# Of those, the ones sent only after the site PUT has returned: the publish's (orchestrators.steps).
UPDATE_WRITES_AFTER_SITE_PUT = ARM_REQUESTS["publish_code"]
# Real seconds a run allows per twin updated (an update's CPU is about a create's: the same publish).
CPU_SECONDS_PER_UPDATE_BUDGET = 0.4
MIN_SPEED = 0.25  # time stretched at most 4 times: a run of 1,000 twins stays within ~15 minutes


def durable_counts(driver: Any) -> dict[str, float]:
    """The driver's running totals of what the app's limits metered: slot-seconds, activities, actions."""
    slots = driver.slots.snapshot()
    return {
        "activity_slot_seconds": sum(slots["slot_seconds"].values()),
        "activities": slots["runs"],
        "durable_actions": driver.backend.actions,
        "activity_slot_wait_seconds": slots["wait_seconds"],
    }


def plan(twins: int, subscriptions: int) -> dict[str, Any]:
    """Waves big enough to keep every subscription's bucket busy once past the canary, and windows
    (``parallelism`` is per subscription) as wide as allowed up to a subscription's even share of the
    twins: the figure is the rollout against ARM's throttles, and ``bound_seconds`` counts the windows."""
    return {
        "canary": max(1, twins // 50),
        "growth": 4,
        "parallelism": min(MAX_PARALLELISM, math.ceil(twins / max(1, subscriptions))),
        "max_failure_ratio": 0.05,
    }


def wave_sizes(twins: int, waves: dict[str, Any]) -> list[int]:
    sizes, left, wave = [], twins, 0
    while left > 0:
        size = min(left, max(1, int(waves["canary"] * waves["growth"] ** wave)))
        sizes.append(size)
        left -= size
        wave += 1
    return sizes


def bound_seconds(
    sizes: list[int], subscriptions: int, parallelism: int, writes_per_twin: float, *, rate: float = WRITE_BUCKET[1]
) -> float:
    """The least time any rollout of these waves could take: a true bound, so achieved/bound <= 1
    (``rate``: the bucket's refill per second, ARM's 10; the scale model asks at the budget's 9.5).

    Waves run one after another. Wave ``j`` alone takes at least the larger of its chain (one twin's
    update chain per ``parallelism`` twins of the busiest subscription: ``parallelism`` is each
    subscription's window, the busiest holds at least an even share of the wave, and a twin keeps
    its place for a whole chain) and its
    throttle time (the writes bucket starts it with at most a full burst of 200, then refills 10/s;
    a twin's last write is its trigger sync, which nothing slow follows). Any run of waves from
    ``k`` on also needs the bucket's time for *all* their writes, with one burst between them, not
    one each: the bucket cannot be full at every wave's start unless it sat idle in between. So for
    every ``k``: the first ``k`` waves' own times, then the rest's larger of their summed chains
    and their joint throttle time. And the wave before ``k`` publishes (its last writes) only once
    its site PUTs have returned, a chain after it began: from then on the bucket must pass those
    writes and all of the later waves'. Each is a lower bound; the bound is the largest of them.
    """

    def share(twins: int) -> int:  # the busiest subscription holds at least an even share of the twins
        return math.ceil(twins / subscriptions)

    def chain(size: int) -> float:  # the busiest subscription's twins of the wave, through its window
        return math.ceil(share(size) / parallelism) * UPDATE_CHAIN_SECONDS

    def throttle(writes_per_subscription: float) -> float:
        return max(0.0, (writes_per_subscription - WRITE_BUCKET[0]) / rate)

    late = min(float(UPDATE_WRITES_AFTER_SITE_PUT), writes_per_twin)
    own = [max(chain(size), throttle(share(size) * writes_per_twin)) for size in sizes]
    from_wave = [
        sum(own[:k]) + max(sum(chain(size) for size in sizes[k:]), throttle(share(sum(sizes[k:])) * writes_per_twin))
        for k in range(len(sizes))
    ]
    # ... and at least an even share of the writes (max >= mean; no rounding up, writes need not be whole).
    after_publishes_begin = [
        sum(own[: k - 1]) + UPDATE_CHAIN_SECONDS
        + throttle((sum(sizes[k:]) * writes_per_twin + sizes[k - 1] * late) / subscriptions)
        for k in range(1, len(sizes) + 1)
    ]  # fmt: skip
    return max(from_wave + after_publishes_begin)


def rollout_throughput(storage_connection: str, subscriptions: int, twins: int) -> dict[str, Any]:
    """The fleet's create, then a rollout over it, in one rig: the rollout's figures, with the create's
    beside them (``create``, as ``bench.run.throughput`` reports a create)."""
    from bench.run import create_figures, create_speed, even_split

    waves = plan(twins, subscriptions)
    sizes = wave_sizes(twins, waves)
    estimate = bound_seconds(sizes, subscriptions, waves["parallelism"], UPDATE_WRITES_PER_TWIN)
    # As for creates (bench.run.throughput): slow enough that the control plane's own CPU, on this
    # machine's 2 cores shared with Azurite and the stand-in, never sets the pace (at 100 s a run,
    # x6, dispatch lagged ARM's bucket and the figure measured the machine, not the rollout). Below
    # x1 when the run's CPU needs it: 4 subscriptions' buckets update 4 times the twins a second, and
    # at x1 each orchestrator episode waited 0.2-0.4 s for a core (measured from the histories).
    speed = max(MIN_SPEED, estimate / max(TARGET_REAL_SECONDS, twins * CPU_SECONDS_PER_UPDATE_BUDGET))
    # One rig, one speed: the create before the rollout must not be starved either.
    speed = min(speed, create_speed(even_split(twins, subscriptions)))
    rig, arm = throttled_rig(storage_connection, subscriptions, speed, f"roll{subscriptions}x{twins}")
    rig.start()
    try:
        from controlplane.auth import Principal
        from controlplane.registry import default_registry
        from controlplane.service import rollouts
        from controlplane.settings import get_settings
        from sandbox.durable import shared_loop

        assert rig.driver is not None
        driver = rig.driver
        settings, registry = get_settings(), default_registry()
        create_before, create_started = rig.usage(), time.monotonic()
        jobs = accept_fleet(driver, twins, "r")
        created = [driver.wait(job, timeout=3600) for job in jobs]
        create_wall = time.monotonic() - create_started
        create = create_figures(
            created, even_split(twins, subscriptions), create_before, rig.usage(), arm.stats(), driver,
            wall=create_wall, speed=speed,
        )  # fmt: skip
        provisioned = create["completed"]
        # The bound grants the rollout a full writes bucket at its start; the fleet's own creates have
        # just emptied it. An operator's rollout does not start in the same second: let it refill.
        time.sleep(WRITE_BUCKET[0] / WRITE_BUCKET[1] / speed)
        before, durable_before, usage_before = arm.stats(), durable_counts(driver), rig.usage()
        by_activity_before = driver.slots.snapshot()["slot_seconds"]

        operator = Principal(kind="operator", owner=None, via="api-key", subject_hint="bench")
        body = {"deploy_ref": "v2", "waves": waves}
        started = time.monotonic()
        record = shared_loop().run(rollouts.start(operator, body, registry, DriverClient(driver), settings))  # type: ignore[arg-type]
        result = driver.wait(record["rollout_id"], timeout=3600)
        wall = time.monotonic() - started
        after, durable_after, usage_after = arm.stats(), durable_counts(driver), rig.usage()
        by_activity_after = driver.slots.snapshot()["slot_seconds"]
        final = registry.rollouts.get(record["rollout_id"])
    finally:
        rig.stop()
    writes = sum(after["by_method"].get(m, 0) - before["by_method"].get(m, 0) for m in ("PUT", "POST", "DELETE"))
    moved = sum(w["succeeded"] for w in final["waves"])
    simulated = wall * speed
    done = [w["succeeded"] for w in final["waves"]]
    bound = bound_seconds(done, subscriptions, waves["parallelism"], writes / max(1, moved))
    return {
        "subscriptions": subscriptions,
        "twins": twins,
        "provisioned": provisioned,
        "updated": moved,
        "status": final["status"],
        "waves": [w["succeeded"] for w in final["waves"]],
        "planned_waves": sizes,
        "parallelism": waves["parallelism"],
        "speed": round(speed, 2),
        "simulated_seconds": round(simulated, 1),
        "twins_per_hour": round(moved / simulated * 3600),
        "bound_twins_per_hour": round(moved / bound * 3600),
        "ratio_to_bound": round(bound / simulated, 3),
        "arm_writes_per_twin": round(writes / max(1, moved), 2),
        "arm_429s": after["throttled"] - before["throttled"],
        "largest_history_events": result.largest_history,
        # What each update cost the app's own limits and Table Storage (the rollout's orchestrations too).
        "per_update": {
            key: round((durable_after[key] - durable_before[key]) / max(1, moved), 2) for key in durable_after
        }
        | {
            key.removeprefix("table_"): round((usage_after[key] - usage_before[key]) / max(1, moved), 2)
            for key in TABLE_KEYS
        }
        | {"cpu_seconds": round((usage_after["cpu_seconds"] - usage_before["cpu_seconds"]) / max(1, moved), 4)}
        # Which activities held the slots: the update's wait belongs on durable timers, not in one of these.
        | {
            "activity_slot_seconds_by_activity": {
                name: round((seconds - by_activity_before.get(name, 0.0)) / max(1, moved), 2)
                for name, seconds in sorted(by_activity_after.items())
                if seconds > by_activity_before.get(name, 0.0)
            }
        },
        # Writes admitted per 10 simulated seconds from the rollout's start (100 = ARM's full rate):
        # waves show as the bucket's busy stretches, their gates as its dips.
        "writes_per_10s": after["writes_per_10s"][len(before["writes_per_10s"]) - 1 :],
        "settings": run_settings(rig.extra_settings, worker_processes=4, speed=round(speed, 2)),
        "create": create,
    }


def summary_rows(results: list[dict[str, Any]]) -> list[str]:
    return [
        f"rollout, {r['subscriptions']} subscription(s), {r['updated']} twins in waves {r['waves']}: "
        f"{r['twins_per_hour']} / {r['bound_twins_per_hour']} twins/h = {r['ratio_to_bound']} of the bound, "
        f"{r['arm_429s']} ARM 429s, largest history {r['largest_history_events']} events"
        for r in results
    ]


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.rollouts [--twins N]``: the rollout figures alone (``make bench`` runs them too)."""
    import argparse
    import os
    from datetime import UTC, datetime
    from pathlib import Path

    from sandbox.azurite import start_azurite

    parser = argparse.ArgumentParser(prog="python -m bench.rollouts")
    parser.add_argument("--twins", type=int, default=int(os.environ.get("N", "1000")))
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    azurite = start_azurite()
    try:
        # One subscription holds at most 950 twins (the pool's default headroom under Azure's 980 groups).
        results = [rollout_throughput(azurite.connection_string, subs, min(args.twins, 950 * subs)) for subs in (1, 4)]
    finally:
        azurite.stop()
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), **machine_and_commit(), "rollouts": results}
    out = Path(__file__).resolve().parent / "results" / "rollouts-latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print("\n".join(summary_rows(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
