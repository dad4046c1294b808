"""The fleet's room, for operators: ARM write budget backlog per subscription, placement against its limits.

Read-only, and cheap at any fleet size: one meta-table read per subscription bucket and one per
capacity slot (the pool's subscriptions x regions), never a scan of the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controlplane.arm.budgets import budget_clock, budget_policy
from controlplane.auth import Principal, require_operator
from controlplane.domain.placement import region_slot, subscription_slot
from controlplane.domain.write_budget import BucketShape
from controlplane.registry import TwinRegistry
from controlplane.settings.model import Settings


def bucket_state(tat: float, now: float, shape: BucketShape) -> dict[str, float]:
    """What a bucket's TAT means now: tokens in use, requests booked beyond a full bucket, and the wait.

    The bucket holds ``burst - (TAT - now) * rate`` tokens now (controlplane.domain.write_budget);
    below zero, that many requests are booked for later, and a new one waits until TAT - burst/rate.
    """
    owed = max(0.0, tat - now) * shape.rate
    return {
        "available": round(max(0.0, shape.burst - owed), 1),
        "queued_requests": round(max(0.0, owed - shape.burst), 1),
        "wait_seconds": round(max(0.0, tat - now - shape.burst / shape.rate), 1),
        "rate_per_second": shape.rate,
        "burst": shape.burst,
    }


def fleet_capacity(
    principal: Principal, registry: TwinRegistry, settings: Settings, *, clock: Callable[[], float] = budget_clock
) -> dict[str, Any]:
    """Per pool subscription: its ARM buckets and resource groups, and each region's twins against its limit.

    ``clock`` is the budget's own (the one reservations are booked by), so TAT and now agree."""
    require_operator(principal, "fleet capacity")
    shapes = budget_policy(settings).shapes
    now = clock()
    subscriptions = []
    for member in settings.subscription_pool:
        budget = {
            bucket: bucket_state(registry.arm_budget.theoretical_arrival(member.subscription_id, bucket), now, shape)
            for bucket, shape in shapes.items()
        }
        regions = [
            {
                "region": region,
                "twins": registry.slot_usage(region_slot(member.subscription_id, region)),
                "limit": member.max_twins_per_region,
            }
            for region in member.regions
        ]
        subscriptions.append(
            {
                "subscription_id": member.subscription_id,
                "arm_budget": budget,
                "resource_groups": registry.slot_usage(subscription_slot(member.subscription_id)),
                "resource_group_limit": member.max_resource_groups,
                "regions": regions,
            }
        )
    return {"subscriptions": subscriptions}
