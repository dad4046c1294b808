"""Where a new twin goes: a subscription-region of the pool with room.

One subscription cannot hold a fleet: Azure allows 980 resource groups per subscription and 250
storage accounts per region per subscription (500 on request), and each twin takes one of each.
The pool lists the subscriptions the control plane may use, with their regions and limits (kept
below Azure's, leaving headroom for anything else in them). Placement is reserved in the same
registry transaction that writes the twin's row (see registry: capacity slots), so concurrent
creates never overfill a subscription-region, and a deleted twin gives its place back.

Candidates are tried starting from a point that depends on the twin, so a fleet spreads across
subscriptions (each has its own ARM write budget) instead of filling one at a time. A hash alone
spreads unevenly (1,600 twins over four subscriptions: 359 to 428, so the busiest subscription's
ARM bucket sets a bulk create's pace 7 % behind an even one), so placement also takes the *power of
two choices*: of two subscriptions the twin's hash names, the one holding fewer twins goes first
(Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing"): within one twin of even,
for two reads per create however large the pool.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Azure's limits (field notes) and the share of them the pool uses by default.
AZURE_RESOURCE_GROUPS_PER_SUBSCRIPTION = 980
AZURE_STORAGE_ACCOUNTS_PER_REGION = 250
DEFAULT_MAX_RESOURCE_GROUPS = 950
DEFAULT_MAX_TWINS_PER_REGION = 240


@dataclass(frozen=True)
class PoolSubscription:
    subscription_id: str
    regions: tuple[str, ...]
    max_twins_per_region: int = DEFAULT_MAX_TWINS_PER_REGION
    max_resource_groups: int = DEFAULT_MAX_RESOURCE_GROUPS


@dataclass(frozen=True)
class Placement:
    subscription_id: str
    region: str
    max_twins_per_region: int
    max_resource_groups: int

    @property
    def region_slot(self) -> str:
        return region_slot(self.subscription_id, self.region)

    @property
    def subscription_slot(self) -> str:
        return subscription_slot(self.subscription_id)

    def slots(self) -> dict[str, int]:
        """The capacity this twin reserves: a place in the region and a resource group."""
        return {self.region_slot: self.max_twins_per_region, self.subscription_slot: self.max_resource_groups}


def region_slot(subscription_id: str, region: str) -> str:
    return f"place:{subscription_id}:{region}"


def subscription_slot(subscription_id: str) -> str:
    return f"place:{subscription_id}"


def owner_slot(owner: str) -> str:
    """The slot an owner's quota is counted in (held only while a quota applies)."""
    return f"owner:{owner}"


def candidates(
    pool: tuple[PoolSubscription, ...], *, cloud_id: str, region: str | None, default_region: str
) -> list[Placement]:
    """Every place this twin may go, in the order to try them.

    A requested region is honoured strictly (only that region); otherwise the default region
    first, then the pool's other regions. Within a region, subscriptions are rotated by the
    twin's hash, so twins spread evenly across the pool.
    """
    if region is not None:
        regions = [region]
    else:
        others = sorted({r for entry in pool for r in entry.regions} - {default_region})
        regions = [default_region, *others]
    start = int(hashlib.sha1(cloud_id.encode()).hexdigest()[:8], 16)  # noqa: S324 - spreading, not security
    ordered: list[Placement] = []
    for wanted in regions:
        hosting = [entry for entry in pool if wanted in entry.regions]
        if not hosting:
            continue
        offset = start % len(hosting)
        for entry in hosting[offset:] + hosting[:offset]:
            ordered.append(
                Placement(entry.subscription_id, wanted, entry.max_twins_per_region, entry.max_resource_groups)
            )
    return ordered


def two_choices(pool: tuple[PoolSubscription, ...], *, cloud_id: str) -> tuple[str, str] | None:
    """Two different subscriptions of the pool, named by the twin's hash (None: a pool of one)."""
    if len(pool) < 2:
        return None
    digest = hashlib.sha1(cloud_id.encode()).hexdigest()  # noqa: S324 - spreading, not security
    first = int(digest[:8], 16) % len(pool)
    second = (first + 1 + int(digest[8:16], 16) % (len(pool) - 1)) % len(pool)
    return pool[first].subscription_id, pool[second].subscription_id


def preferring(places: list[Placement], subscription_id: str) -> list[Placement]:
    """The same places, with ``subscription_id``'s first within each region (regions keep their order)."""
    order = {region: i for i, region in enumerate(dict.fromkeys(p.region for p in places))}
    return sorted(places, key=lambda p: (order[p.region], p.subscription_id != subscription_id))
