"""Time to ready: how much the control plane adds to what Azure itself makes each twin wait.

For each twin: the wall time from its POST (the service's create path) to ``active``, divided by the
sum of the latencies the stand-ins imposed on that twin's own steps — ARM sleeps and operation
durations (by resource group), the One Deploy deployment (scm stand-in) and the host's cold start
(brainstem hosts). 1.0 would be a control plane that adds nothing; what it adds is polling granularity,
activity dispatch and its own work. Reported as p50 and p99 over twins of both hosting kinds, all
started together. Latencies are Azure's typical ones times ``scale`` (the run takes minutes at 1.0).
"""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sandbox.arm import ArmStandIn
from sandbox.durable import WallClock
from sandbox.rig import ControlPlaneRig

# Typical Azure latencies in seconds, per stand-in route (the async ones are operation durations).
LATENCY = {
    "web_names.check": 0.3,
    "storage_names.check": 0.3,
    "geo_regions.list": 0.3,
    "resource_groups.create_or_update": 1.5,
    "storage_accounts.create": 20.0,
    "storage_accounts.get": 0.2,
    "storage_accounts.list_keys": 0.3,
    "blob_containers.create": 0.5,
    "server_farms.create_or_update": 5.0,
    "sites.create_or_update": 20.0,
    "sites.get": 0.3,
    "sites.list_application_settings": 0.3,
    "sites.update_application_settings": 2.0,
    "sites.sync_function_triggers": 2.0,
    "role_assignments.create": 1.0,
}
DEPLOY_SECONDS = 30.0  # One Deploy with a remote build
COLD_START_SECONDS = 5.0  # a new app's host starting
TARGETS = ("azure-consumption-py311", "azure-flex-py313")


def measure(storage_connection: str, *, twins: int = 10, scale: float = 0.5) -> dict[str, Any]:
    latency = {route: seconds * scale for route, seconds in LATENCY.items()}
    arm = ArmStandIn(latency=latency, web_puts="async")
    rig = ControlPlaneRig(
        storage_connection, table_name=f"ready{twins}x{int(scale * 100)}", arm=arm, clock=WallClock(),
        deploy_seconds=DEPLOY_SECONDS * scale, cold_start_seconds=COLD_START_SECONDS * scale,
        settings={"CP_OWNER_QUOTA": "0", "CP_ARM_POLLING_INTERVAL_SECONDS": "1", "CP_READINESS_PROBE_INTERVAL_SECONDS": "15"},
    )  # fmt: skip
    rig.start()
    try:
        from controlplane.registry import default_registry
        from controlplane.service.creation import create
        from controlplane.service.requests import CreateRequest
        from controlplane.settings import get_settings
        from sandbox.durable import shared_loop

        assert rig.driver is not None
        driver, settings, registry = rig.driver, get_settings(), default_registry()

        class DriverClient:
            async def start_new(self, name: str, instance_id: str, payload: dict) -> None:
                driver.start(name, payload, instance_id=instance_id)

        def one(i: int) -> dict[str, Any]:
            name, target = f"r{i:05d}", TARGETS[i % len(TARGETS)]
            posted = time.monotonic()
            request = CreateRequest(name=name, runtime_target=target, region="eastus2")
            accepted = shared_loop().run(create(request, "github:bench", registry, DriverClient(), settings))  # type: ignore[arg-type]
            result = driver.wait(accepted.job_id, timeout=1800)
            return {"name": name, "target": target, "status": result.status, "wall": time.monotonic() - posted}

        with ThreadPoolExecutor(twins) as pool:
            runs = list(pool.map(one, range(twins)))
    finally:
        rig.stop()
    for run in runs:
        group, app = f"rg-twin-{run['name']}", _app_name(run["name"])
        run["imposed"] = (
            arm.imposed_latency.get(group, 0.0)
            + (rig.scm.imposed.get(group, 0.0) if rig.scm else 0.0)
            + (rig.brainstems.imposed.get(app, 0.0) if rig.brainstems else 0.0)
        )
        run["ratio"] = run["wall"] / run["imposed"] if run["imposed"] else math.inf
    ratios = [r["ratio"] for r in runs if r["status"] == "Completed"]
    return {
        "twins": twins,
        "scale": scale,
        "completed": len(ratios),
        "ratio_p50": round(_percentile(ratios, 0.5), 3) if ratios else None,
        "ratio_p99": round(_percentile(ratios, 0.99), 3) if ratios else None,
        "by_target": {
            target: round(_percentile([r["ratio"] for r in runs if r["target"] == target], 0.5), 3)
            for target in TARGETS
            if any(r["target"] == target and r["status"] == "Completed" for r in runs)
        },
        "twin_seconds_p50": round(_percentile([r["wall"] for r in runs], 0.5), 1),
        "imposed_seconds_p50": round(_percentile([r["imposed"] for r in runs], 0.5), 1),
    }


def render(result: dict[str, Any]) -> list[str]:
    """Table rows for run.py's report."""
    return [
        f"| time to ready / stand-in latency, {result['twins']} twins (x{result['scale']} Azure latency): p50 / p99 | "
        f"**{result['ratio_p50']}** / {result['ratio_p99']} ({result['completed']} completed; "
        f"{result['twin_seconds_p50']} s vs {result['imposed_seconds_p50']} s imposed at p50; "
        f"by target p50 {json.dumps(result['by_target'])}) |"
    ]


def _app_name(name: str) -> str:
    from controlplane.domain.naming import twin_names

    return twin_names(name).app_name


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def main() -> None:
    """``python -m bench.time_to_ready``: this figure alone (Azurite started here)."""
    from sandbox.azurite import start_azurite

    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    azurite = start_azurite()
    try:
        twins = int(os.environ.get("BENCH_READY_TWINS", "10"))
        result = measure(
            azurite.connection_string, twins=twins, scale=float(os.environ.get("BENCH_READY_SCALE", "0.5"))
        )
    finally:
        azurite.stop()
    print(json.dumps(result, indent=2))
    print("\n".join(render(result)))


if __name__ == "__main__":
    main()
