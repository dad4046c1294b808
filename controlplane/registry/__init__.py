"""The brainstem registry: one row per brainstem in an Azure Table.

Key design — every lookup a request makes is a point read or one bounded range:

    PartitionKey            RowKey        entity
    twin-<name>-<hash6>     brainstem     the row: point read by cloud_id; the whole fleet is the
                                          PartitionKey range 'twin-'..'twin.' (paged in cloud_id order)
    owner|<owner>           <cloud_id>    a full copy of the row: an owner's listing is one partition

and, in a small table of its own (``<table>meta``) that health reads without touching the fleet's:

    ~counts                 00..15        fleet-count shards (controlplane.registry.fleet_counts): health is O(1)
    ~slot|<key>             ''            a capacity slot (controlplane.registry.capacity): quota, placement

One partition per twin spreads the fleet over Table Storage's partition servers (each serves about
2,000 entities/s), so reads scale with the fleet instead of queueing on one hot partition; an
owner's partition stays small. The cost is that a row, its owner copy, its count and its capacity
are separate writes, not one transaction. They are ordered so that nothing is ever over-granted:
capacity is taken (idempotently, ETag-guarded) before the row is written and given back after it;
the row itself is written under its ETag (a lost race is retried from a fresh read and re-validated
against the lifecycle, never silently overwritten); the owner copy and the counts follow. A process
that dies between those writes leaves at worst a stale copy, a count off by one or a place held by
no one, and ``reconcile()`` (a timer runs it hourly) puts them right.
"""

from controlplane.registry.entities import MAX_PAGE_SIZE, META_SUFFIX, encode_token, owner_entity, row_entity
from controlplane.registry.factory import default_registry, registry_from_settings, reset_default_registry
from controlplane.registry.twin_registry import TwinRegistry, iter_all

__all__ = [
    "MAX_PAGE_SIZE", "META_SUFFIX", "TwinRegistry", "default_registry", "encode_token", "iter_all",
    "owner_entity", "registry_from_settings", "reset_default_registry", "row_entity",
]  # fmt: skip
