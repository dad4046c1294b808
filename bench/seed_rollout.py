"""Seed one rollout over a seeded fleet (bench.seed_table), its twins' entities and look copies written
into Azurite's file as bench.seed_table writes rows. Benchmark tooling only.

The rollout has ``WAVES`` equal waves of batches of ``BATCH``: every wave but the last has
succeeded (one twin in a hundred failed), the last is running (every twin ``started``): what the
looks of a rollout's last wave meet at 100,000 twins.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.seed_table import append_entities
from controlplane.domain.naming import twin_names
from controlplane.domain.rollouts import RolloutSpec
from controlplane.registry import TwinRegistry
from controlplane.registry.rollout_looks import copy_partitions
from controlplane.registry.rollouts import TWIN_PARTITION
from sandbox.azurite import start_azurite

ROLLOUT_ID = "bench-rollout"
WAVES, BATCH = 10, 500


def twin_entity(i: int, count: int) -> dict[str, Any]:
    per_wave = count // WAVES
    wave = min(i // per_wave, WAVES - 1)
    state = "started" if wave == WAVES - 1 else ("failed" if i % 100 == 7 else "succeeded")
    return {
        "PartitionKey": TWIN_PARTITION + ROLLOUT_ID, "RowKey": twin_names(f"f{i:07d}").cloud_id,
        "wave": wave, "batch": (i - wave * per_wave) // BATCH, "state": state, "at": "2026-12-07T00:00:00.000000Z",
        "job_id": f"{ROLLOUT_ID}.{i}", "previous_deploy_ref": "main",
    }  # fmt: skip


def entities(count: int) -> Iterator[dict[str, Any]]:
    for i in range(count - 1):
        twin = twin_entity(i, count)
        yield twin
        content = {k: v for k, v in twin.items() if k not in ("PartitionKey", "RowKey")}
        for partition in copy_partitions(twin):
            yield {"PartitionKey": partition, "RowKey": twin["RowKey"], **content}


def seed_rollout(location: Path, table: str, count: int) -> float:
    """Add the rollout to the workspace ``location`` (already seeded with ``count`` rows); seconds taken."""
    started = time.monotonic()
    azurite = start_azurite(location=location)
    try:
        registry = TwinRegistry.from_connection_string(azurite.connection_string, table)
        registry.rollouts.create(
            RolloutSpec.from_dict({"rollout_id": ROLLOUT_ID, "deploy_ref": "v2"}), created_by="bench"
        )
        last = twin_entity(count - 1, count)  # one twin through the store: the template for the rest
        fields = {k: last[k] for k in ("batch", "job_id", "previous_deploy_ref")}
        registry.rollouts.record_twin(ROLLOUT_ID, last["wave"], last["RowKey"], last["state"], count=False, **fields)
    finally:
        azurite.stop()
    append_entities(location, table + "rollouts", entities(count))
    return time.monotonic() - started
