"""The partitions a rollout's looks read by key: a twin's copy under its (wave, state), its batch, its failure.

A rollout's twin entities share one partition (``rollout|<id>``, controlplane.registry.rollouts);
a look for "wave 3's started twins" that filtered that partition on ``wave`` and ``state`` made
the service read every twin of the rollout (Learn: "Design for querying": a filter on non-key
properties is a partition scan), so at 100,000 twins each look of a small wave read 100,000
entities. Each twin therefore also has copies where a look finds it by key:

    PartitionKey                          RowKey      copy of the twin's entity, while it is ...
    rollout|<id>|<wave>|<state>           <cloud_id>  in that state (moved when its state moves)
    rollout|<id>|<wave>|batch|<batch>     <cloud_id>  taken by that batch (its state kept current)
    rollout|<id>|failures                 <cloud_id>  failed, or failed its bake
    rollout|<id>|<wave>|queued|<sub>      <cloud_id>  taken by the wave, waiting for a place in its
                                                      subscription's window (instead of the state copy)
    rollout|<id>|<wave>|queues            <sub>       (not a copy) a subscription that has queued twins

The twin's own entity stays the truth (the recount reads it). A change writes the new copies
first and the twin's entity last, so an attempt that dies midway is completed by its retry (the
twin's entity still shows the old state, so the retry writes everything again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

_KEYS = ("PartitionKey", "RowKey")


def state_partition(twin_partition: str, wave: int, state: str) -> str:
    return f"{twin_partition}|{int(wave)}|{state}"


def batch_partition(twin_partition: str, wave: int, batch: int) -> str:
    return f"{twin_partition}|{int(wave)}|batch|{int(batch)}"


def queue_partition(twin_partition: str, wave: int, subscription_id: str) -> str:
    return f"{twin_partition}|{int(wave)}|queued|{subscription_id}"


def queues_partition(twin_partition: str, wave: int) -> str:
    return f"{twin_partition}|{int(wave)}|queues"


def failures_partition(twin_partition: str) -> str:
    return f"{twin_partition}|failures"


def _failed(entity: Mapping[str, Any] | None) -> bool:
    return entity is not None and (entity.get("state") == "failed" or entity.get("bake_failed") is True)


def copy_partitions(entity: Mapping[str, Any]) -> list[str]:
    """The look partitions a twin's entity (``PartitionKey`` = the rollout's twin partition) belongs in."""
    partition, wave, state = str(entity["PartitionKey"]), int(entity["wave"]), str(entity["state"])
    if state == "queued":  # one queue per subscription: a window's free places are filled from its own
        wanted = [queue_partition(partition, wave, str(entity["subscription_id"]))]
    else:
        wanted = [state_partition(partition, wave, state)]
    if entity.get("batch") is not None:
        wanted.append(batch_partition(partition, wave, int(entity["batch"])))
    if _failed(entity):
        wanted.append(failures_partition(partition))
    return wanted


def write_copies(table: TableClient, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """Put ``after`` (the twin's whole entity as it will be) in its look partitions, and out of those it left."""
    content = {k: v for k, v in after.items() if k not in _KEYS}
    wanted = copy_partitions(after)
    for partition in wanted:
        table.upsert_entity({"PartitionKey": partition, "RowKey": after["RowKey"], **content}, mode=UpdateMode.REPLACE)
    for partition in copy_partitions(before) if before is not None else []:
        if partition not in wanted:
            try:
                table.delete_entity(partition, str(after["RowKey"]))
            except ResourceNotFoundError:
                pass  # delete_ succeeds when already gone (the SDK does not raise; older versions may)


def merge_into_copies(table: TableClient, entity: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
    """Merge small ``fields`` into every copy of the twin ``entity`` (as read, before the merge)."""
    for partition in copy_partitions(entity):
        table.upsert_entity({"PartitionKey": partition, "RowKey": entity["RowKey"], **fields}, mode=UpdateMode.MERGE)
