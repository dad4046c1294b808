"""Holding a twin at its version (an operator or the twin's owner): rollouts pass it by, updates are refused.

The hold lives on the twin's row, written under the row's ETag like every change of it, so the
rollout that claims the twin and the PATCH that updates it read it where they read the status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controlplane.auth import Principal
from controlplane.domain.rollout_gates import hold_of, parse_hold
from controlplane.domain.twin import Twin
from controlplane.registry import TwinRegistry
from controlplane.service.errors import TwinHeld


def active_hold(row: Twin, now: datetime | None = None) -> dict[str, Any] | None:
    """The row's hold while it holds (an expired hold counts as none)."""
    hold = hold_of(row.hold)
    if hold is None or not hold.active(now or datetime.now(UTC)):
        return None
    return row.hold


def refuse_if_held(row: Twin) -> None:
    hold = active_hold(row)
    if hold is not None:
        until = f" until {hold['until']}" if hold.get("until") else ""
        raise TwinHeld(
            f"{row.cloud_id} is held by {hold['by']}{until}: {hold['reason']}; lift the hold (DELETE "
            f"/api/cp/brainstems/{row.cloud_id}/hold) to update it",
            cloud_id=row.cloud_id,
            hold=hold,
        )


def put_hold(principal: Principal, cloud_id: str, body: dict[str, Any], registry: TwinRegistry) -> Twin:
    """Hold (or re-hold, replacing the reason and expiry) a twin the caller may see."""
    hold = parse_hold(body, by=f"{principal.via}:{principal.subject_hint}", now=datetime.now(UTC))
    record = {"reason": hold.reason, "by": hold.by, "at": hold.at, "until": hold.until}
    return registry.update(cloud_id, lambda current: current.with_changes(hold=record))


def lift_hold(cloud_id: str, registry: TwinRegistry) -> Twin:
    """Lift the hold; lifting a twin that is not held succeeds (the SDK's delete_ convention)."""
    return registry.update(cloud_id, lambda current: current.with_changes(hold=None) if current.hold else None)
