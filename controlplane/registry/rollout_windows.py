"""A wave's windows, one per subscription: how many of its twins each subscription runs, and its queue.

``parallelism`` bounds the twins a wave updates at once in each subscription (each has its own
ARM writes bucket, so each keeps its own bucket busy). What a batch needs to fill every window is
read by key (controlplane.registry.rollout_looks), never by a filter over the rollout's twins:

- the wave's running twins, from their state partition (``subscription_id`` only): one partition
  of at most ``parallelism`` twins per subscription;
- the subscriptions with queued twins (the wave took them while their window was full), from one
  small partition with a row per subscription;
- the next queued twins of one subscription, from its queue partition, in cloud_id order.
"""

from __future__ import annotations

import itertools
from collections import Counter

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient

from controlplane.registry import rollout_looks
from controlplane.registry.entities import odata_str


class RolloutWindows:
    def __init__(self, table: TableClient, twin_partition_prefix: str) -> None:
        self._table = table
        self._prefix = twin_partition_prefix

    def running(self, rollout_id: str, wave: int, state: str) -> Counter[str]:
        """How many of the wave's twins are in ``state`` (started, rolling_back), per subscription."""
        partition = rollout_looks.state_partition(self._prefix + rollout_id, wave, state)
        entities = self._table.query_entities(f"PartitionKey eq {odata_str(partition)}", select=["subscription_id"])
        return Counter(str(entity.get("subscription_id") or "") for entity in entities)

    def note_queue(self, rollout_id: str, wave: int, subscription_id: str) -> None:
        """Say that ``subscription_id`` has queued twins in the wave (before the first is queued)."""
        entity = {
            "PartitionKey": rollout_looks.queues_partition(self._prefix + rollout_id, wave),
            "RowKey": subscription_id,
        }
        try:
            self._table.create_entity(entity)
        except ResourceExistsError:
            pass  # said already; the row stays while the wave lasts (a look of an empty queue is one small read)

    def queue_subscriptions(self, rollout_id: str, wave: int) -> list[str]:
        partition = rollout_looks.queues_partition(self._prefix + rollout_id, wave)
        query = f"PartitionKey eq {odata_str(partition)}"
        return [str(entity["RowKey"]) for entity in self._table.query_entities(query, select=["RowKey"])]

    def queued(self, rollout_id: str, wave: int, subscription_id: str, *, limit: int) -> list[str]:
        """Up to ``limit`` of the subscription's queued twins, first taken (lowest cloud_id) first."""
        if limit <= 0:
            return []
        partition = rollout_looks.queue_partition(self._prefix + rollout_id, wave, subscription_id)
        query = f"PartitionKey eq {odata_str(partition)}"
        entities = self._table.query_entities(query, select=["RowKey"], results_per_page=limit)
        return [str(entity["RowKey"]) for entity in itertools.islice(entities, limit)]

    def any_queued(self, rollout_id: str, wave: int) -> bool:
        """Whether any subscription still has a queued twin in the wave (the wave has not ended while it does)."""
        return any(self.queued(rollout_id, wave, sub, limit=1) for sub in self.queue_subscriptions(rollout_id, wave))
