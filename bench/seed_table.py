"""Seed a registry table with N brainstems fast, by writing Azurite's own table file.

Inserting 100,000 rows over HTTP takes Azurite minutes; the benchmark only needs a table that holds
them. So Azurite makes the table (and its count shards) once, saves its LokiJS workspace, and we
add the rows' documents in the same shapes Azurite writes (taken from the template it produced),
marking the indexes dirty so Azurite rebuilds them on load. Benchmark tooling only.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import twin_names
from controlplane.domain.placement import region_slot, subscription_slot
from controlplane.domain.twin import Twin, utc_now
from controlplane.registry import TwinRegistry, owner_entity, row_entity
from controlplane.registry.capacity import PREFIX
from controlplane.registry.fleet_counts import count_keys
from sandbox.azurite import start_azurite

DB_FILE = "__azurite_db_table__.json"
TWINS_PER_OWNER = 100  # so an owner's first page is full (100 rows) at every fleet size
REGION = "eastus2"


def bench_subscription(index: int) -> str:
    """The ``index``-th (from 0) subscription id of a seeded fleet."""
    return f"00000000-0000-4000-8000-{index + 1:012d}"


def fleet_row(i: int, now: str, *, subscriptions: int | None = None) -> Twin:
    """Row ``i`` of a seeded fleet; with ``subscriptions``, spread round-robin over them, holding its places."""
    names = twin_names(f"f{i:07d}")
    subscription = bench_subscription(i % subscriptions if subscriptions else 0)
    slots = (subscription_slot(subscription), region_slot(subscription, REGION)) if subscriptions else ()
    return Twin(
        cloud_id=names.cloud_id, name=names.name, owner=f"github:owner{i // TWINS_PER_OWNER:04d}", region=REGION,
        runtime_target="azure-consumption-py311", deploy_ref="main", status=Status.ACTIVE, job_id=uuid.uuid4().hex,
        created_at=now, last_seen=now, url=names.url, subscription_id=subscription, slots=slots,
    )  # fmt: skip


def seed(location: Path, table: str, count: int, *, subscriptions: int | None = None) -> float:
    """Make ``location`` an Azurite workspace whose ``table`` holds ``count`` active brainstems; return seconds taken.

    ``subscriptions``: spread the rows over that many subscriptions, each row holding its places in
    its subscription's capacity sets (as a create leaves them), which are written too."""
    started = time.monotonic()
    location.mkdir(parents=True, exist_ok=True)
    azurite = start_azurite(location=location)
    now = utc_now()
    try:
        registry = TwinRegistry.from_connection_string(azurite.connection_string, table)
        registry.create_table()
        # One row through the registry: the template for the documents we add to Azurite's file.
        template = fleet_row(count - 1, now, subscriptions=subscriptions)
        registry.create(template, slots=dict.fromkeys(template.slots, count))
        # The counts the other rows add, as their creates would have (the template's are in already).
        registry.fleet_counts.add(dict.fromkeys(count_keys(template), count - 1))
        if subscriptions:
            members: dict[str, list[str]] = {}
            for i in range(count):
                row = fleet_row(i, now, subscriptions=subscriptions)
                for key in row.slots:
                    members.setdefault(key, []).append(row.cloud_id)
            for key, cloud_ids in members.items():
                registry._meta.upsert_entity(  # noqa: SLF001 - a whole capacity set in one write
                    {"PartitionKey": PREFIX + key, "RowKey": "", "members": json.dumps(sorted(cloud_ids))}
                )
    finally:
        azurite.stop()  # saves the workspace
    rows = (fleet_row(i, now, subscriptions=subscriptions) for i in range(count - 1))
    append_entities(location, table, (entity for row in rows for entity in (row_entity(row), owner_entity(row))))
    return time.monotonic() - started


def append_entities(location: Path, table: str, entities: Iterable[dict[str, Any]]) -> None:
    """Add ``entities`` to ``table`` in a saved Azurite workspace, shaped as the table's first document
    (which Azurite wrote): the table must hold one entity already."""
    path = location / DB_FILE
    db = json.loads(path.read_text())
    collection = next(c for c in db["collections"] if c["name"].endswith("$" + table))
    template = collection["data"][0]
    next_id = collection["maxId"]
    documents = collection["data"]
    for entity in entities:
        next_id += 1
        properties = {
            **entity,
            "Timestamp": template["properties"]["Timestamp"],
            "Timestamp@odata.type": "Edm.DateTime",
        }
        documents.append({
            "PartitionKey": entity["PartitionKey"], "RowKey": entity["RowKey"], "properties": properties,
            "lastModifiedTime": template["lastModifiedTime"], "eTag": template["eTag"],
            "meta": {"revision": 0, "created": template["meta"]["created"], "version": 0}, "$loki": next_id,
        })  # fmt: skip
    collection["maxId"] = next_id
    collection["idIndex"] = [d["$loki"] for d in documents]
    for field, index in collection["binaryIndices"].items():
        index["values"] = sorted(range(len(documents)), key=lambda position: documents[position][field])
        index["dirty"] = False
    path.write_text(json.dumps(db))
