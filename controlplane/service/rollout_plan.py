"""A rollout's plan before it starts (``dry_run``): what each wave would take, and about how long.

The selection is walked as a rollout walks it — the registry's pages in cloud_id order, active
twins not yet on the version, held twins passed by without taking a place — keeping only counts,
so a plan of 100,000 twins holds one page in memory. The estimate is a floor, not a promise: the
ARM writes the updates book (the steps' bookings) on each subscription's write budget behind what
is already booked there, plus every wave's bake. Update latency and approvals come on top.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from controlplane.arm.budgets import budget_clock
from controlplane.domain.lifecycle import Status
from controlplane.domain.rollouts import RolloutSpec
from controlplane.registry import TwinRegistry
from controlplane.service.holds import active_hold
from controlplane.settings import Settings
from orchestrators.steps import arm_requests

MAX_PAGE = 1000


def plan(spec: RolloutSpec, registry: TwinRegistry, settings: Settings) -> dict[str, Any]:
    selector, now = spec.selector, datetime.now(UTC)
    waves: list[dict[str, int]] = []
    writes: Counter[str] = Counter()
    wave, taken, cursor = 0, 0, None
    while True:
        page = registry.list(
            owner=selector.owner, region=selector.region, runtime_target=selector.runtime_target,
            deploy_ref=selector.deploy_ref, not_deploy_ref=spec.deploy_ref, status=Status.ACTIVE,
            limit=MAX_PAGE, next=cursor,
        )  # fmt: skip
        for row in page.items:
            if taken >= spec.waves.wave_size(wave):
                wave, taken = wave + 1, 0
            while len(waves) <= wave:
                waves.append({"wave": len(waves), "selected": 0, "held": 0})
            if active_hold(row, now) is not None:
                waves[wave]["held"] += 1
                continue
            waves[wave]["selected"] += 1
            taken += 1
            job = {"runtime_target": row.runtime_target}
            writes[row.subscription_id or settings.subscription_id] += arm_requests(
                "publish_update", job
            ) + arm_requests("publish_code", job)
        cursor = page.next
        if cursor is None:
            break
    for planned in waves:
        planned["bake_seconds"] = spec.gates.bake_for(planned["wave"]) if planned["selected"] else 0
        planned["needs_approval"] = spec.gates.needs_approval_after(planned["wave"]) and planned is not waves[-1]
    throttle = {sub: _throttle_seconds(sub, count, registry, settings) for sub, count in writes.items()}
    bakes = sum(planned["bake_seconds"] for planned in waves)
    return {
        "dry_run": True,
        "spec": spec.to_dict(),
        "selected": sum(w["selected"] for w in waves),
        "held": sum(w["held"] for w in waves),
        "waves": waves,
        "estimate": {
            "seconds": round(max(throttle.values(), default=0.0) + bakes, 1),
            "arm_write_seconds": round(max(throttle.values(), default=0.0), 1),
            "bake_seconds": bakes,
            "approvals": sum(1 for w in waves if w["needs_approval"]),
            "by_subscription": [
                {"subscription_id": sub, "writes": writes[sub], "seconds": round(seconds, 1)}
                for sub, seconds in sorted(throttle.items(), key=lambda item: -item[1])[:20]
            ],
            "note": "a floor: ARM writes behind the current backlog, plus bakes; update latency and approvals add to it",
        },
    }


def _throttle_seconds(subscription_id: str, writes: int, registry: TwinRegistry, settings: Settings) -> float:
    """The subscription's write budget: what is booked already, then these writes past one burst at its rate."""
    backlog = registry.arm_budget.backlog_seconds(subscription_id, "writes", now=budget_clock())
    return backlog + max(0.0, writes - settings.arm_write_burst) / settings.arm_writes_per_second
