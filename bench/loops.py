"""``python -m bench.loops``: what each periodic loop reads from Table Storage per run, at 1k–100k rows.

For each fleet size and subscription count, a registry is seeded into Azurite as the throughput
bench seeds it (bench.seed_table: every row active, spread round-robin over the subscriptions,
each holding its places in its subscription's capacity sets), and each loop's own activity code
runs once over it against a registry whose ``TableServiceClient`` carries a counting pipeline
policy (bench.table_counter): requests, entities the service returned, and queries that filter
on a property that is not a key (0 means every entity the service read is counted). Wall time is
Azurite's, on this machine: only the counts compare with Azure.

- ``drift``: every subscription's rows by key (``fleet_reads.subscription_rows``), judged against an
  inventory holding every twin (the ARM lists are not the registry's cost and are not run here).
- ``repair``: both observations and the corrections (``repair.observe`` + ``registry.reconcile``).
- ``lost_jobs``: the fleet a page at a time (``fail_lost_jobs_page``'s reads; every row active, so
  Durable is never asked).
- ``heartbeat``: the real ``heartbeat_page`` activity page by page, its probes sent to a closed
  loopback port (they fail at once, so nothing is touched: reads only).
- ``rollout_*``: the looks of a rollout over the whole fleet (bench.seed_rollout: ten waves, the
  last running): the running wave's started twins (collect outcomes), a bake's page, a batch's
  twins (a retried batch), the failures (the rollout's GET), and the recount at its end.

The payload figure is the largest JSON a loop's activity returned (the Durable Task Scheduler
caps payloads at 1 MB). Results: ``bench/results/loops-<when>.json`` and ``loops-latest.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azure.data.tables import TableServiceClient
from controlplane.service.rollout_bake import BAKE_PAGE

from bench import seed_rollout
from bench.provenance import machine_and_commit
from bench.seed_table import bench_subscription, seed
from bench.table_counter import TableCounter
from controlplane.domain.drift import Inventory, TaggedGroup
from controlplane.domain.naming import twin_names
from controlplane.registry import TwinRegistry, fleet_reads, repair
from sandbox.azurite import start_azurite

RESULTS = Path(__file__).parent / "results"
TABLE = "fleet"
TWINS_PER_SUBSCRIPTION = 950  # the pool's default groups per subscription (docs/fleet-scale.md)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): a probe there is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def present_inventory(registry: TwinRegistry, subscription_id: str, rows: list[Any]) -> Inventory:
    """What ARM would list for a subscription whose every twin is whole (drift finds nothing)."""
    names = [twin_names(row.name) for row in rows]
    groups = [TaggedGroup(n.resource_group, "eastus2", {"stack": "TwinStack", "twin": n.name}) for n in names]
    return Inventory.build(subscription_id, groups, [(n.resource_group, n.app_name) for n in names])


def measure(counter: TableCounter, run: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    """Run one loop; its Table counts, wall time and the largest activity result it produced."""
    counter.take()
    started = time.monotonic()
    results = run()
    seconds = time.monotonic() - started
    counts = counter.take().as_dict()
    return {
        **counts,
        "wall_seconds": round(seconds, 2),
        "activities": len(results),
        "largest_payload_bytes": max((len(json.dumps(r)) for r in results), default=0),
    }


def run_loops(connection: str, rows: int, subscriptions: int) -> dict[str, Any]:
    from activities import reconcile as loop_activities
    from controlplane.registry import factory
    from controlplane.settings import get_settings

    counter = TableCounter()
    service = TableServiceClient.from_connection_string(connection, raw_response_hook=counter)
    registry = TwinRegistry.from_service(service, TABLE)
    factory._default_registry = registry  # noqa: SLF001 - the activities' process-wide registry, counted
    settings = get_settings()
    subscription_ids = [bench_subscription(k) for k in range(subscriptions)]

    def drift() -> list[dict[str, Any]]:
        found = []
        for subscription_id in subscription_ids:
            twins = fleet_reads.subscription_rows(registry, subscription_id, loop_activities.DRIFT_STATUSES)
            held = present_inventory(registry, subscription_id, twins)
            # The configuration drift (issue 31) probes twins and reads ARM: not the registry's cost, not run here.
            found.append(
                loop_activities.judge_subscription(
                    registry, settings, subscription_id, twins, held, check_configuration=False
                ).to_json()
            )
        return found

    def repair_run() -> list[dict[str, Any]]:
        first = repair.observe(registry)
        return [first, registry.reconcile(first)]

    def lost_jobs() -> list[dict[str, Any]]:
        pages, cursor = [], None
        while True:
            page = fleet_reads.fleet_page(registry, after=cursor)
            # Every seeded row is active: fail_lost_jobs asks Durable about none of them.
            failed = asyncio.run(loop_activities.reconcile.fail_lost_jobs(registry, None, settings, page.rows))  # type: ignore[arg-type]
            pages.append({"next": page.next, "rows": len(page.rows), "failed": len(failed)})
            cursor = page.next
            if not cursor:
                return pages

    heartbeat_page = loop_activities.heartbeat_page._function.get_user_function()  # noqa: SLF001

    def heartbeat() -> list[dict[str, Any]]:
        pages, cursor = [], None
        while True:
            page = heartbeat_page({"next": cursor})
            pages.append(page)
            cursor = page["next"]
            if not cursor:
                return pages

    store, last_wave = registry.rollouts, seed_rollout.WAVES - 1
    looks: dict[str, Callable[[], list[Any]]] = {
        "rollout_collect": lambda: list(store.twins(seed_rollout.ROLLOUT_ID, wave=last_wave, state="started")),
        "rollout_bake_page": lambda: store.twins_page(
            seed_rollout.ROLLOUT_ID, wave=last_wave - 1, state="succeeded", after=None, limit=BAKE_PAGE
        ),
        "rollout_batch": lambda: store.batch_twins(seed_rollout.ROLLOUT_ID, last_wave, 0),
        "rollout_failures": lambda: store.failures(seed_rollout.ROLLOUT_ID),
        "rollout_recount": lambda: store.recount(seed_rollout.ROLLOUT_ID),
    }
    loops = {"drift": drift, "repair": repair_run, "lost_jobs": lost_jobs, "heartbeat": heartbeat}
    figures = {name: measure(counter, run) for name, run in loops.items()}
    found: dict[str, int] = {}
    for name, look in looks.items():

        def run(look: Callable[[], list[Any]] = look, name: str = name) -> list[dict[str, Any]]:
            found[name] = len(look())
            return []  # a look's answer stays in its activity

        figures[name] = measure(counter, run)
    per_wave = rows // seed_rollout.WAVES
    must_look_at = {
        "drift": rows,  # every active or missing row, each once
        "repair": 2 * (2 * rows),  # two observations, each of every row and its owner copy
        "lost_jobs": rows,  # a busy row is found only by its status, which is no key: every row
        "heartbeat": rows,  # every row, to probe the active ones
        "rollout_collect": rows - (seed_rollout.WAVES - 1) * per_wave,  # the running wave's twins
        "rollout_bake_page": min(BAKE_PAGE, found["rollout_bake_page"]),
        "rollout_batch": min(seed_rollout.BATCH, rows - (seed_rollout.WAVES - 1) * per_wave),
        "rollout_failures": found["rollout_failures"],  # the first page of failures (100)
        "rollout_recount": rows,  # every twin of the rollout (its end)
    }
    for name, figure in figures.items():
        figure["rows_to_look_at"] = must_look_at[name]
        figure["found"] = found.get(name)
        figure["read_ratio"] = round(figure["entities_read"] / must_look_at[name], 4)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--subscription-factor", type=int, nargs="+", default=[1, 2],
                        help="runs per size: the fewest subscriptions that hold the rows, times each factor")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ["CP_BRAINSTEM_URL_TEMPLATE"] = f"http://127.0.0.1:{closed_port()}/{{app_name}}"
    os.environ.setdefault("CP_SUBSCRIPTION_ID", bench_subscription(0))
    os.environ["CP_REGISTRY_TABLE"] = TABLE
    runs = []
    for rows in args.rows:
        for factor in args.subscription_factor:
            subscriptions = math.ceil(rows / TWINS_PER_SUBSCRIPTION) * factor
            with tempfile.TemporaryDirectory(prefix="loops-bench-") as workspace:
                seeded = seed(Path(workspace), TABLE, rows, subscriptions=subscriptions)
                seeded += seed_rollout.seed_rollout(Path(workspace), TABLE, rows)
                azurite = start_azurite(location=Path(workspace))
                try:
                    os.environ["CP_STORAGE_CONNECTION"] = azurite.connection_string
                    from controlplane.settings import get_settings

                    get_settings.cache_clear()
                    figures = run_loops(azurite.connection_string, rows, subscriptions)
                finally:
                    azurite.stop()
            run = {"rows": rows, "subscriptions": subscriptions, "seed_seconds": round(seeded, 1), "loops": figures}
            print(json.dumps(run), flush=True)
            runs.append(run)
    result = {
        "command": "python -m bench.loops " + " ".join(sys.argv[1:]),
        "provenance": machine_and_commit(),
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    out = args.out or RESULTS / f"loops-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    if args.out is None:  # a run sent elsewhere (a check) leaves the recorded figures alone
        (RESULTS / "loops-latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
