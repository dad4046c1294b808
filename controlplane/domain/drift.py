"""Desired against actual, for one subscription: which rows lost their resources, which twins have no row.

Level-triggered, as Kubernetes' controllers are: the reconcile does not trust the registry's history.
It reads the rows first, then lists what Azure holds (one paged list of the resource groups tagged
``stack=TwinStack``, one of the subscription's Function Apps), and compares:

- an ``active`` row whose resource group or site is not in Azure is **missing**. Rows are read
  before the lists, so any resource a row's job made before the row became active is in the lists.
- a ``missing`` row whose group and site are both back is **returned** (active again).
- a tagged group named as ``provision-twin-lite.sh`` names them, with no row, is an **orphan**: a
  twin made outside the control plane, to adopt.

Pure: no I/O, no clock. ``controlplane.arm.inventory`` lists, ``activities.reconcile`` acts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from controlplane.domain.errors import InvalidInput
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import TwinNames, twin_names
from controlplane.domain.twin import Twin

STACK_TAG, STACK_VALUE = "stack", "TwinStack"  # the tags provision-twin-lite.sh puts on every group
TWIN_TAG, OWNER_TAG = "twin", "owner"
GROUP_PREFIX = "rg-twin-"
MISSING_CODE = "MissingInAzure"


@dataclass(frozen=True)
class TaggedGroup:
    name: str
    location: str
    tags: Mapping[str, str] | None  # None: the list did not carry them (read the group to know)


@dataclass(frozen=True)
class Inventory:
    """What one subscription holds, from its two lists. Names compare lower-cased, as ARM's do."""

    subscription_id: str
    groups: Mapping[str, TaggedGroup]  # lower-cased group name -> group
    sites: frozenset[tuple[str, str]]  # (lower-cased group, lower-cased site name)

    @classmethod
    def build(cls, subscription_id: str, groups: Iterable[TaggedGroup], sites: Iterable[tuple[str, str]]) -> Inventory:
        return cls(
            subscription_id,
            {group.name.lower(): group for group in groups},
            frozenset((g.lower(), s.lower()) for g, s in sites),
        )

    def holds(self, names: TwinNames) -> tuple[bool, bool]:
        """(group tagged and present, site present) for a twin's names."""
        group = names.resource_group.lower()
        return group in self.groups, (group, names.app_name.lower()) in self.sites


def twin_of_group(group: TaggedGroup) -> TwinNames | None:
    """The twin a tagged group holds, named as the script names it (``rg-twin-<name>``); None if not one.

    A ``twin`` tag that disagrees with the group's name makes it not ours: adopting it would write a
    row whose names point at other resources."""
    name = group.name.lower().removeprefix(GROUP_PREFIX)
    if not group.name.lower().startswith(GROUP_PREFIX):
        return None
    try:
        names = twin_names(name)
    except InvalidInput:
        return None
    tagged = _tag(group.tags, TWIN_TAG)
    if tagged is not None and tagged != name:
        return None
    return names


def _tag(tags: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (tags or {}).items():
        if key.lower() == name:  # tag names are case-insensitive in ARM
            return value
    return None


def owner_tag(group: TaggedGroup) -> str | None:
    return _tag(group.tags, OWNER_TAG)


@dataclass
class Drift:
    missing: list[tuple[Twin, str]] = field(default_factory=list)  # row, what is gone
    returned: list[Twin] = field(default_factory=list)
    orphans: list[TwinNames] = field(default_factory=list)


def judge(rows: Iterable[Twin], inventory: Inventory) -> Drift:
    """Compare this subscription's ``active`` and ``missing`` rows (read before the lists) with its inventory.

    ``orphans`` are only candidates: a group may belong to a row in another status (being built, torn
    down, errored); the reconcile reads each candidate's row before counting it."""
    drift = Drift()
    seen: set[str] = set()
    for row in rows:
        seen.add(row.cloud_id)
        if row.subscription_id != inventory.subscription_id:
            continue
        has_group, has_site = inventory.holds(twin_names(row.name))
        if row.status == Status.ACTIVE and not (has_group and has_site):
            gone = "resource group" if not has_group else "Function App"
            drift.missing.append((row, gone))
        elif row.status == Status.MISSING and has_group and has_site:
            drift.returned.append(row)
    for group in inventory.groups.values():
        names = twin_of_group(group)
        if names is not None and names.cloud_id not in seen:
            drift.orphans.append(names)
    drift.orphans.sort(key=lambda names: names.cloud_id)
    return drift


def missing_error(gone: str, names: TwinNames, subscription_id: str, noticed_at: str) -> dict[str, str]:
    """The row's ``error`` while it is missing: what is gone, where, and when the reconcile noticed."""
    where = names.resource_group if gone == "resource group" else f"{names.app_name} in {names.resource_group}"
    return {
        "step": "reconcile",
        "code": MISSING_CODE,
        "message": f"the {gone} {where} is not in subscription {subscription_id} (noticed {noticed_at})",
        "noticed_at": noticed_at,
    }
