"""``reserve_arm_writes``: book a step's ARM requests in the fleet-wide budget before the step runs.

The orchestration calls this, waits on a durable timer until ``not_before``, then runs the step with
the returned ``grant`` (``controlplane.arm.write_budget.spending``): waiting costs a timer, not an
activity asleep on an instance. ``retry_at`` means the bucket is booked beyond this lane's horizon:
nothing was taken; ask again then. With ``CP_ARM_WRITE_BUDGET=process`` nothing is booked here and
the clients pay as they go.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import azure.durable_functions as df

from activities.payloads import JsonObject
from controlplane.arm.budgets import fleet_write_budget
from controlplane.arm.fleet_budget import LANE_BUCKETS
from controlplane.domain.step_requests import Booking, BookingRequest
from controlplane.settings import get_settings

blueprint = df.Blueprint()
_RETRY_SPREAD_SECONDS = 2.0
_NOW_SECONDS = 0.001


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@blueprint.activity_trigger(input_name="request")
def reserve_arm_writes(request: JsonObject) -> JsonObject:
    settings = get_settings()
    booking = BookingRequest.from_json(request)
    subscription_id, lane, count = str(booking.subscription_id), str(booking.lane), int(booking.count)
    if lane not in LANE_BUCKETS:
        raise ValueError(f"unknown budget lane {lane!r}")
    if settings.arm_write_budget == "process":
        return Booking().to_json()
    budget = fleet_write_budget()
    grant = budget.reserve(subscription_id, lane, count)
    if grant.not_before is None:
        assert grant.retry_at is not None
        # Spread the callers told to come back, so they do not all wake at the same instant.
        return Booking(retry_at=_iso(grant.retry_at + random.uniform(0, _RETRY_SPREAD_SECONDS))).to_json()
    return Booking(
        # Due now (a full bucket): no time at all, so that the orchestration sets no timer for a
        # moment that has already come (a microsecond of float rounding must not add a history event).
        not_before=_iso(grant.not_before) if grant.not_before > budget.clock() + _NOW_SECONDS else None,
        grant={
            "subscription_id": subscription_id,
            "bucket": LANE_BUCKETS[lane],
            "count": count,
            "stale_at": grant.not_before + settings.arm_budget_grace_seconds,
        },
    ).to_json()
