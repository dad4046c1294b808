"""Placement's pure part: the order places are tried in, and the two choices that balance a pool."""

from __future__ import annotations

from collections import Counter

from controlplane.domain.placement import PoolSubscription, candidates, preferring, subscription_slot, two_choices

REGIONS = ("eastus2", "westeurope", "uksouth")
POOL = tuple(PoolSubscription(f"sub-{i}", REGIONS, max_twins_per_region=240, max_resource_groups=950) for i in range(4))


def place_fleet(twins: int, *, balanced: bool) -> list[int]:
    """Twins placed one after another, as creates do: the first place with room, by each rule."""
    used: Counter[str] = Counter()
    for i in range(twins):
        cloud_id = f"twin-b{i:06d}"
        places = candidates(POOL, cloud_id=cloud_id, region=None, default_region="eastus2")
        choices = two_choices(POOL, cloud_id=cloud_id)
        if balanced and choices is not None:
            places = preferring(places, min(choices, key=lambda s: used[subscription_slot(s)]))
        place = next(p for p in places if used[p.region_slot] < 240 and used[p.subscription_slot] < 950)
        used.update([place.region_slot, place.subscription_slot])
    return sorted(used[subscription_slot(entry.subscription_id)] for entry in POOL)


def test_two_choices_are_two_different_subscriptions_and_none_in_a_pool_of_one() -> None:
    for i in range(200):
        choices = two_choices(POOL, cloud_id=f"twin-{i}")
        assert choices is not None and choices[0] != choices[1]
    assert two_choices(POOL[:1], cloud_id="twin-0") is None


def test_the_two_choices_keep_a_pool_within_a_twin_or_two_of_even_where_a_hash_alone_does_not() -> None:
    hashed_spreads = []
    for twins in (400, 1000, 1600):
        hashed, balanced = place_fleet(twins, balanced=False), place_fleet(twins, balanced=True)
        assert balanced[-1] - balanced[0] <= 2, balanced
        hashed_spreads.append(hashed[-1] - hashed[0])
    assert max(hashed_spreads) > 10, hashed_spreads  # what the hash alone does (why the choices exist)


def test_preferring_moves_one_subscription_first_within_each_region_and_keeps_the_regions_order() -> None:
    places = candidates(POOL, cloud_id="twin-x", region=None, default_region="uksouth")
    moved = preferring(places, "sub-2")
    assert [p.region for p in moved] == [p.region for p in places]
    assert sorted(moved, key=id) == sorted(places, key=id)
    regions = dict.fromkeys(p.region for p in places)
    for region in regions:
        assert [p for p in moved if p.region == region][0].subscription_id == "sub-2"
