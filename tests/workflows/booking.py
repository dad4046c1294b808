"""What an orchestration booked in the fleet's ARM budget, next to what its activities sent to ARM."""

from __future__ import annotations

import json

from controlplane.arm.write_budget import unbooked
from controlplane.domain.durable_names import Activity
from sandbox.durable import OrchestrationResult
from sandbox.rig import ControlPlaneRig

ARM_WRITE_METHODS = ("PUT", "POST", "PATCH")


def booked_writes(result: OrchestrationResult) -> int:
    """The tokens the orchestration reserved (each ``reserve_arm_writes`` it scheduled)."""
    return sum(
        json.loads(event["Input"])["count"]
        for event in result.history
        if event.get("Name") == Activity.RESERVE_ARM_WRITES and event.get("Input")
    )


def sent_writes(rig: ControlPlaneRig, since: int = 0) -> list[str]:
    """The write requests ARM took a token for since request ``since`` (a 404 is counted; a 429 is not)."""
    return [r.route for r in rig.arm.requests[since:] if r.method in ARM_WRITE_METHODS and r.status != 429]


class NothingUnbooked:
    """``with NothingUnbooked():`` fails if any step sent an ARM write it had not booked beforehand.

    Totals could hide one step's shortfall behind another's surplus; this sees each request as the
    budget's pipeline policy pays for it."""

    def __enter__(self) -> NothingUnbooked:
        self.before = unbooked.count
        return self

    def __exit__(self, *failure: object) -> None:
        if failure[0] is None:
            assert unbooked.count == self.before, f"{unbooked.count - self.before} ARM write(s) sent unbooked"
