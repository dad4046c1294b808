"""The benchmarks' fleet: the control plane against a throttled ARM stand-in in another process,
time compressed by ``speed``, and twins accepted through the HTTP layer's own create path."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.activity_hosts import PooledFunctions, scaled_clock_from_env, scaled_sleep_from_env
from bench.remote_arm import RemoteArm
from bench.table_counter import TABLE_KEYS, count_default_registry, table_totals
from controlplane.arm.budgets import set_budget_clock
from sandbox.durable import WallClock
from sandbox.durable.driver import OrchestrationDriver
from sandbox.durable.host_limits import HostLimits, infra_instance_count
from sandbox.rig import ControlPlaneRig
from sandbox.worker import app_durable_functions

# Real Azure step latencies in seconds (typical; the benchmarks divide them by the speed factor).
STEP_LATENCY = {
    "resource_groups.create_or_update": 1.5,
    "storage_accounts.create": 20.0,
    "server_farms.create_or_update": 5.0,
    "sites.create_or_update": 20.0,
}
REGIONS = ["eastus2", "westus2", "westeurope", "northeurope", "uksouth"]
# ARM's limits per subscription (field notes): token buckets of (burst, refill per second).
WRITE_BUCKET, READ_BUCKET = (200, 10.0), (250, 25.0)
STORAGE_PER_SECOND, STORAGE_PER_HOUR = 10.0, 1200.0
# Each throughput run is sped up to take about this long: long enough that this process's CPU (the
# Durable replays, the SDK, our code: ~65 ms a twin) is not what limits it.
TARGET_REAL_SECONDS = float(os.environ.get("BENCH_RUN_SECONDS", "100"))
# How the stand-in answers plan and site PUTs: "async" (202 + Azure-AsyncOperation, the shape
# Microsoft.Web's spec documents beside 200: WebApps_CreateOrUpdate, example
# CreateOrUpdateFunctionAppFlexConsumption.json) or "sync" (200 once made, ARM holding the request).
WEB_PUTS = os.environ.get("BENCH_WEB_PUTS", "async")


def deployed_limits() -> HostLimits:
    """The deployed app's concurrency: host.json per instance × the infra's maximumInstanceCount
    (BENCH_INSTANCES overrides it), and the backend's rate (BENCH_BACKEND_ACTIONS_PER_SECOND, or the
    Durable Task Scheduler's for BENCH_DTS_CAPACITY_UNITS on Dedicated)."""
    rate = os.environ.get("BENCH_BACKEND_ACTIONS_PER_SECOND")
    units = os.environ.get("BENCH_DTS_CAPACITY_UNITS")
    host = HostLimits.from_host_json(
        instances=int(os.environ.get("BENCH_INSTANCES", infra_instance_count())),
        backend_actions_per_second=float(rate) if rate else None,
        capacity_units=int(units) if units else None,
    )
    if units and host.backend != "azureManaged":  # the bench may ask what the scheduler would do
        host = dataclasses.replace(host, backend="azureManaged", backend_actions_per_second=int(units) * 2000.0)
    return host


def subscription(i: int) -> str:
    return f"{i + 1:08d}-0000-4000-8000-00000000b{i:03d}"


class FleetRig(ControlPlaneRig):
    """The rig, with its activities in ``hosts`` worker processes (0: in this process, on threads)."""

    pooled: PooledFunctions | None = None

    def start(self, environ: Any = None) -> FleetRig:
        super().start(environ)
        count_default_registry()  # the worker processes count theirs (bench.activity_hosts.serve)
        return self

    def stop(self) -> None:
        super().stop()
        if self.pooled is not None:
            self.pooled.close()

    def usage(self) -> dict[str, float]:
        """The fleet budget's own Table Storage operations, the tokens it booked, and the CPU seconds so
        far, every process together."""
        from controlplane.arm.write_budget import unbooked
        from controlplane.registry import default_registry

        none = dict.fromkeys(("budget_operations", "budget_tokens", "unbooked_writes", "cpu_seconds", *TABLE_KEYS), 0)
        hosts = self.pooled.stats() if self.pooled is not None else none
        here = table_totals()
        return {
            **{key: here[key] + hosts[key] for key in TABLE_KEYS},
            "budget_operations": default_registry().arm_budget.operations + hosts["budget_operations"],
            "budget_tokens": default_registry().arm_budget.tokens_booked + hosts["budget_tokens"],
            "unbooked_writes": unbooked.count + hosts["unbooked_writes"],
            "cpu_seconds": time.process_time() + hosts["cpu_seconds"],
        }


def throttled_rig(
    storage_connection: str, subscriptions: int, speed: float, table_name: str, *, hosts: int = 4,
    budget: str = "fleet",
) -> tuple[FleetRig, RemoteArm]:  # fmt: skip
    """A rig over a pool of ``subscriptions``, its ARM stand-in throttled as ARM is (not yet started).

    Activities run in ``hosts`` separate processes, as on Azure's several instances; ``budget`` is
    CP_ARM_WRITE_BUDGET: "fleet" (shared in Table Storage) or "process" (each process its own).
    """
    pool = [
        {
            "subscription_id": subscription(i),
            "regions": REGIONS,
            "max_twins_per_region": 240,
            "max_resource_groups": 980,
        }
        for i in range(subscriptions)
    ]
    limits = deployed_limits()
    arm = RemoteArm(STEP_LATENCY, speed, web_puts=WEB_PUTS)
    clock = WallClock(speed=speed)
    # The budget keeps ARM's own time, compressed as the stand-in's is, in every process alike.
    clock_spec = ",".join(
        str(x) for x in (clock.now().timestamp(), time.time(), speed)
    )  # fmt: skip
    os.environ["BENCH_CLOCK"] = clock_spec
    set_budget_clock(scaled_clock_from_env(), scaled_sleep_from_env())

    def functions() -> Any:
        local = app_durable_functions()
        if hosts == 0:
            return local
        rig.pooled = PooledFunctions(local, hosts, clock_spec)
        return rig.pooled

    rig = FleetRig(
        storage_connection,
        table_name=table_name,
        arm=arm,  # type: ignore[arg-type]
        clock=clock,
        # The deployed app's slots (host.json × instances): on Azure spread over instances, here over
        # ``hosts`` processes (and threads within each).
        limits=limits,
        durable_functions=functions,
        site_exists=lambda app_name: True,
        settings={
            "CP_SUBSCRIPTION_POOL": json.dumps(pool),
            "CP_OWNER_QUOTA": "0",
            # The write budget keeps ARM's time (the clock above): its defaults, just under ARM's
            # 10/s and 200 burst, for every process together or for each, as ``budget`` says.
            "CP_ARM_WRITE_BUDGET": budget,
            # Activities wait on ARM's long-running operations in the worker's thread pool (Learn:
            # "Improve throughput performance of Python apps in Azure Functions": sync functions run
            # on PYTHON_THREADPOOL_THREAD_COUNT threads, default min(32, CPUs + 4)). Each host here
            # stands for several instances, with a thread for each of their activity slots, so that
            # host.json's slots, not threads, are what limits a run.
            "PYTHON_THREADPOOL_THREAD_COUNT": str(max(32, math.ceil(limits.activity_slots / max(1, hosts)))),
            "CP_ARM_POLLING_INTERVAL_SECONDS": str(round(5.0 / speed, 3)),
            "CP_ACTIVITY_FIRST_RETRY_SECONDS": "5",
            "CP_READINESS_PROBE_INTERVAL_SECONDS": "15",
            "CP_TEARDOWN_POLL_INTERVAL_SECONDS": "15",
        },
    )
    return rig, arm


class DriverClient:
    """The Durable client's start_new, straight to the driver (no HTTP hop in the measurement)."""

    def __init__(self, driver: OrchestrationDriver) -> None:
        self.driver = driver

    async def start_new(self, name: str, instance_id: str, payload: Any) -> None:
        self.driver.start(name, payload, instance_id=instance_id)


def accept_fleet(driver: OrchestrationDriver, twins: int, prefix: str) -> list[str]:
    """Accept ``twins`` creates together, as from many callers, through the HTTP layer's own path; their job ids."""
    from controlplane.registry import default_registry
    from controlplane.service.creation import create
    from controlplane.service.requests import CreateRequest
    from controlplane.settings import get_settings
    from sandbox.durable import shared_loop

    settings, registry, client = get_settings(), default_registry(), DriverClient(driver)

    def accept(i: int) -> str:
        request = CreateRequest(name=f"{prefix}{i:06d}")
        accepted = shared_loop().run(create(request, f"github:bench{i % 50}", registry, client, settings))  # type: ignore[arg-type]
        return accepted.job_id

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(accept, range(twins)))
