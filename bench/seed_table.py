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
from pathlib import Path

from controlplane.domain.brainstem import Brainstem, utc_now
from controlplane.domain.lifecycle import Status
from controlplane.domain.naming import brainstem_names
from controlplane.registry import BrainstemRegistry, owner_entity, row_entity
from sandbox.azurite import start_azurite

DB_FILE = "__azurite_db_table__.json"
TWINS_PER_OWNER = 100  # so an owner's first page is full (100 rows) at every fleet size


def fleet_row(i: int, now: str) -> Brainstem:
    names = brainstem_names(f"f{i:07d}")
    return Brainstem(
        cloud_id=names.cloud_id, name=names.name, owner=f"github:owner{i // TWINS_PER_OWNER:04d}", region="eastus2",
        runtime_target="azure-consumption-py311", deploy_ref="main", status=Status.ACTIVE, job_id=uuid.uuid4().hex,
        created_at=now, last_seen=now, url=names.url, subscription_id="00000000-0000-4000-8000-000000000001",
    )  # fmt: skip


def seed(location: Path, table: str, count: int) -> float:
    """Make ``location`` an Azurite workspace whose ``table`` holds ``count`` active brainstems; return seconds taken."""
    started = time.monotonic()
    location.mkdir(parents=True, exist_ok=True)
    azurite = start_azurite(location=location)
    try:
        registry = BrainstemRegistry.from_connection_string(azurite.connection_string, table)
        registry.create_table()
        # One row through the registry: the template for the documents we add to Azurite's file.
        registry.create(fleet_row(count - 1, utc_now()))
        registry.fleet_counts.replace({"active": count, "live_azure_consumption_py311": count})
    finally:
        azurite.stop()  # saves the workspace
    path = location / DB_FILE
    db = json.loads(path.read_text())
    collection = next(c for c in db["collections"] if c["name"].endswith("$" + table))
    template = collection["data"][0]
    now = utc_now()
    next_id = collection["maxId"]
    documents = collection["data"]
    for i in range(count - 1):
        row = fleet_row(i, now)
        for entity in (row_entity(row), owner_entity(row)):
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
    return time.monotonic() - started
