"""CP_SUBSCRIPTION_POOL: the subscriptions (and their regions and limits) twins may be placed in."""

from __future__ import annotations

import json
import re

from controlplane.domain.placement import (
    AZURE_RESOURCE_GROUPS_PER_SUBSCRIPTION,
    AZURE_STORAGE_ACCOUNTS_PER_REGION,
    PoolSubscription,
)

REGION = re.compile(r"[a-z0-9]{2,40}")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_POOL_FIELDS = frozenset({"subscription_id", "regions", "max_twins_per_region", "max_resource_groups"})


def parse_pool(value: object) -> tuple[PoolSubscription, ...] | None:
    """The pool from its JSON setting (None when unset); ValueError naming the entry and field to fix."""
    if value is None or value == "":
        return None
    try:
        entries = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        raise ValueError("must be a JSON list of {subscription_id, regions, ...}") from None
    if not isinstance(entries, list) or not entries:
        raise ValueError("must be a non-empty JSON list of {subscription_id, regions, ...}")
    pool = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - _POOL_FIELDS or "subscription_id" not in entry:
            raise ValueError(
                f"[{index}] must be an object with subscription_id, regions and optional limits ({', '.join(sorted(_POOL_FIELDS))})"
            )
        if not GUID.fullmatch(str(entry["subscription_id"])):
            raise ValueError(f"[{index}].subscription_id must be a subscription GUID")
        regions = entry.get("regions")
        if (
            not isinstance(regions, list)
            or not regions
            or not all(isinstance(r, str) and REGION.fullmatch(r) for r in regions)
        ):
            raise ValueError(f"[{index}].regions must be a non-empty list of region names")
        limits = {k: entry[k] for k in ("max_twins_per_region", "max_resource_groups") if k in entry}
        for key, limit in limits.items():
            ceiling = (
                AZURE_STORAGE_ACCOUNTS_PER_REGION * 2
                if key == "max_twins_per_region"
                else AZURE_RESOURCE_GROUPS_PER_SUBSCRIPTION
            )
            if not isinstance(limit, int) or not 1 <= limit <= ceiling:
                raise ValueError(f"[{index}].{key} must be a whole number from 1 to {ceiling}")
        pool.append(
            PoolSubscription(str(entry["subscription_id"]).lower(), tuple(r.lower() for r in regions), **limits)
        )
    return tuple(pool)
