"""What an operator charts: operations by outcome, step and error code; ARM 429s; budget waits; time to ready.

Instruments come from the global meter provider; before (or without) ``setup_telemetry`` they are
the API's no-ops, so recording is always safe and costs next to nothing.
"""

from __future__ import annotations

from opentelemetry import metrics

_meter = metrics.get_meter("controlplane")

operations = _meter.create_counter(
    "controlplane.operations",
    description="Brainstem creates, deletes and updates by operation, outcome (started/succeeded/failed), step and error code",
)
arm_throttled = _meter.create_counter("controlplane.arm.throttled", description="ARM answers with status 429")
write_budget_wait = _meter.create_histogram(
    "controlplane.arm.write_budget.wait", unit="s", description="Time a write waited in the subscription's write budget"
)
time_to_ready = _meter.create_histogram(
    "controlplane.brainstem.time_to_ready", unit="s", description="From the create's acceptance to the brainstem active"
)


def operation(op: str, outcome: str, *, step: str = "", error_code: str = "") -> None:
    attributes = {"operation": op, "outcome": outcome}
    if step:
        attributes["step"] = step
    if error_code:
        attributes["error_code"] = error_code
    operations.add(1, attributes)


def budget_waited(seconds: float) -> None:
    """The write budget's hook: called once per write with the time it waited (0 when none)."""
    write_budget_wait.record(seconds)
