"""The deployed app's concurrency, read from ``host.json`` and the infra's instance count, for the driver.

What the Functions host and the Durable extension allow one app, each from a Microsoft source:

- ``extensions.durableTask.maxConcurrentActivityFunctions`` / ``maxConcurrentOrchestratorFunctions``:
  work items **per instance** (Learn, "host.json settings for Durable Functions", and "Performance and
  scale in Durable Functions": "Concurrency throttles ... the maximum number of activity or orchestrator
  functions that can execute concurrently on a single worker"). The app has ``instances`` of them
  (``maximumInstanceCount`` of the Flex plan in ``infra/``), so the app's slots are the product.
  Defaults when absent: 10 × processors (Learn's host.json reference; Flex instances of 2,048 MB have 1).
- ``functionTimeout``: an invocation still running at the limit is stopped. The WebJobs SDK's
  ``FunctionExecutor`` throws ``FunctionTimeoutException`` with "Timeout value of {0} was exceeded by
  function: {1}" and the host restarts the worker (Azure/azure-webjobs-sdk,
  ``src/Microsoft.Azure.WebJobs.Host/Executors/FunctionExecutor.cs``); the Durable extension records it as
  the activity's ``TaskFailed``. Default 30 minutes on Flex Consumption (Learn, "Azure Functions
  hosting options", function app timeout duration).
- The backend's throughput, in Durable *actions* per second (Learn, "Durable Task Scheduler billing /
  Dedicated SKU": an action is a message the scheduler dispatches — an orchestration start, an activity
  scheduled, its result processed, a timer completed, an external event, a terminate; Dedicated: up to
  2,000 actions/s per capacity unit; Consumption: up to 500 actions/s). The Azure Storage provider
  publishes no such figure; its throughput is set by ``partitionCount`` (control queues, at most one
  instance each) and the storage account, so the driver counts its actions and leaves the rate to a
  setting (``None``: not bounded here).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HOST_JSON = REPO / "host.json"
FUNCTION_APP_BICEP = REPO / "infra" / "app" / "function-app.bicep"
#: Learn, Durable Task Scheduler Dedicated SKU: "up to 2,000 actions per second" per capacity unit.
DTS_ACTIONS_PER_SECOND_PER_CAPACITY_UNIT = 2000.0
#: Learn, Durable Task Scheduler Consumption SKU: up to 500 actions per second.
DTS_CONSUMPTION_ACTIONS_PER_SECOND = 500.0
#: Learn's host.json reference: both concurrency throttles default to 10 × the processors of an instance.
DEFAULT_PER_INSTANCE = 10
#: Learn, hosting options: Flex Consumption's default function timeout is 30 minutes.
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 30 * 60.0


def timespan_seconds(text: str) -> float:
    """``[d.]hh:mm:ss[.fff]`` (a .NET TimeSpan, as host.json writes ``functionTimeout``) in seconds."""
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)", text.strip())
    if match is None:
        raise ValueError(f"not a TimeSpan: {text!r}")
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def infra_instance_count(bicep: Path = FUNCTION_APP_BICEP) -> int:
    """The Flex plan's ``maximumInstanceCount`` default as the infra deploys it."""
    match = re.search(r"param\s+maximumInstanceCount\s+int\s*=\s*(\d+)", bicep.read_text())
    if match is None:
        raise ValueError(f"no maximumInstanceCount default in {bicep}")
    return int(match.group(1))


@dataclasses.dataclass(frozen=True)
class HostLimits:
    """One app's limits: per instance × instances, the function timeout, and the backend's actions/s."""

    activities_per_instance: int = DEFAULT_PER_INSTANCE
    orchestrators_per_instance: int = DEFAULT_PER_INSTANCE
    instances: int = 1
    function_timeout_seconds: float | None = DEFAULT_FUNCTION_TIMEOUT_SECONDS
    backend: str = "azureStorage"
    backend_actions_per_second: float | None = None
    partition_count: int = 4

    @property
    def activity_slots(self) -> int:
        return self.activities_per_instance * self.instances

    @property
    def orchestrator_slots(self) -> int:
        return self.orchestrators_per_instance * self.instances

    @classmethod
    def from_host_json(
        cls,
        host_json: Path | dict[str, Any] = HOST_JSON,
        *,
        instances: int | None = None,
        backend_actions_per_second: float | None = None,
        capacity_units: int | None = None,
    ) -> HostLimits:
        """The limits ``host.json`` sets, over ``instances`` (default: the infra's maximumInstanceCount).

        The backend is ``extensions.durableTask.storageProvider.type`` (absent: Azure Storage).
        For the Durable Task Scheduler (``azureManaged``) the rate is the SKU's: ``capacity_units`` ×
        2,000 on Dedicated, 500 on Consumption (``capacity_units`` None).
        """
        config = json.loads(host_json.read_text()) if isinstance(host_json, Path) else host_json
        durable = config.get("extensions", {}).get("durableTask", {})
        provider = durable.get("storageProvider", {})
        backend = provider.get("type", "azureStorage")
        rate = backend_actions_per_second
        if rate is None and backend == "azureManaged":
            rate = (
                DTS_CONSUMPTION_ACTIONS_PER_SECOND
                if capacity_units is None
                else capacity_units * DTS_ACTIONS_PER_SECOND_PER_CAPACITY_UNIT
            )
        timeout = config.get("functionTimeout")
        return cls(
            activities_per_instance=int(durable.get("maxConcurrentActivityFunctions", DEFAULT_PER_INSTANCE)),
            orchestrators_per_instance=int(durable.get("maxConcurrentOrchestratorFunctions", DEFAULT_PER_INSTANCE)),
            instances=instances if instances is not None else infra_instance_count(),
            # "-1" means unbounded (Learn's host.json reference), allowed on Flex and Dedicated plans.
            function_timeout_seconds=(
                DEFAULT_FUNCTION_TIMEOUT_SECONDS
                if timeout is None
                else None
                if str(timeout).strip() == "-1"
                else timespan_seconds(str(timeout))
            ),
            backend=backend,
            backend_actions_per_second=rate,
            partition_count=int(provider.get("partitionCount", 4)),
        )


class BackendPace:
    """Spaces Durable actions at the backend's rate, in the driver's clock; counts them either way.

    ``reserve()`` answers the clock second at which the next action may go out: now, or later when
    actions already booked fill the rate (each takes 1/rate of a second, as a token bucket without burst).
    """

    def __init__(self, actions_per_second: float | None) -> None:
        self.actions_per_second = actions_per_second
        self.actions = 0
        self.delayed_seconds = 0.0  # clock seconds actions waited for the backend, summed
        self._next_free = 0.0
        self._lock = threading.Lock()

    def reserve(self, now: float) -> float:
        with self._lock:
            self.actions += 1
            if not self.actions_per_second:
                return now
            at = max(now, self._next_free)
            self._next_free = at + 1.0 / self.actions_per_second
            self.delayed_seconds += at - now
            return at


class SlotMeter:
    """What the activity slots did: slot-seconds per activity name, the peak in use, the waits for a slot."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.busy = 0
        self.peak = 0
        self.runs = 0
        self.wait_seconds = 0.0  # clock seconds activities waited between being scheduled and a slot
        self.slot_seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def begin(self, waited: float) -> None:
        with self._lock:
            self.busy += 1
            self.runs += 1
            self.peak = max(self.peak, self.busy)
            self.wait_seconds += max(0.0, waited)

    def end(self, name: str, held: float) -> None:
        with self._lock:
            self.busy -= 1
            self.slot_seconds[name] = self.slot_seconds.get(name, 0.0) + max(0.0, held)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "slots": self.slots,
                "peak_in_use": self.peak,
                "runs": self.runs,
                "wait_seconds": self.wait_seconds,
                "slot_seconds": dict(self.slot_seconds),
            }
