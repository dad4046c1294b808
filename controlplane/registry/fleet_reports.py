"""What the reconcile and the heartbeat last found, kept for /health (in the registry's meta table).

    PartitionKey   RowKey              what
    ~reports       drift|<sub id>      one subscription's last reconcile: orphans (count, first names),
                                       missing / returned rows, when, or why it was delayed
    ~reports       heartbeat           the last heartbeat sweep: probed, answered, stale, when

One small partition: /health reads it with one query, whatever the fleet's size, and never lists
Azure or the fleet itself.
"""

from __future__ import annotations

import json
from typing import Any

from azure.data.tables import TableClient, UpdateMode

PARTITION = "~reports"
DRIFT = "drift|"
HEARTBEAT = "heartbeat"
NAMES_KEPT = 100  # orphan names kept per subscription (the count is exact; adopt's dry run lists all)


class FleetReports:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def save_drift(self, subscription_id: str, report: dict[str, Any]) -> None:
        """Replace a subscription's report. A delayed run (``error`` set) keeps the last good figures."""
        entity: dict[str, Any] = {"PartitionKey": PARTITION, "RowKey": DRIFT + subscription_id}
        if report.get("error"):
            entity.update({"error": str(report["error"])[:1024], "failed_at": report["at"]})
            self._table.upsert_entity(entity, mode=UpdateMode.MERGE)
            return
        orphans = list(report.get("orphans", []))
        entity.update({
            "orphan_count": len(orphans), "orphans": json.dumps(orphans[:NAMES_KEPT]),
            "missing": int(report.get("missing", 0)), "returned": int(report.get("returned", 0)),
            "reconciled_at": report["at"], "error": "", "failed_at": "",
            # Configuration drift (activities.config_drift): twins whose settings, code or tags drifted.
            "drifted": int(report.get("drifted", 0)), "drifted_names": json.dumps(list(report.get("drifted_names", []))),
        })  # fmt: skip
        self._table.upsert_entity(entity, mode=UpdateMode.MERGE)

    def save_heartbeat(self, summary: dict[str, Any]) -> None:
        entity = {"PartitionKey": PARTITION, "RowKey": HEARTBEAT, **summary}
        self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)

    def summary(self) -> dict[str, Any]:
        """Orphans over every subscription, when each was last reconciled (or why not), the heartbeat's last sweep."""
        drift: dict[str, Any] = {
            "orphans": 0,
            "orphan_names": [],
            "drifted": 0,
            "drifted_names": [],
            "subscriptions": {},
        }
        heartbeat: dict[str, Any] = {}
        for entity in self._table.query_entities(f"PartitionKey eq '{PARTITION}'"):
            key = str(entity["RowKey"])
            if key == HEARTBEAT:
                heartbeat = {k: v for k, v in entity.items() if k not in ("PartitionKey", "RowKey")}
            elif key.startswith(DRIFT):
                drift["orphans"] += int(entity.get("orphan_count") or 0)
                drift["orphan_names"] += json.loads(entity.get("orphans") or "[]")
                drift["drifted"] += int(entity.get("drifted") or 0)
                drift["drifted_names"] += json.loads(entity.get("drifted_names") or "[]")
                drift["subscriptions"][key.removeprefix(DRIFT)] = {
                    "reconciled_at": entity.get("reconciled_at") or None,
                    "orphans": int(entity.get("orphan_count") or 0),
                    "delayed": entity.get("error") or None,
                }
        drift["orphan_names"] = sorted(drift["orphan_names"])[:NAMES_KEPT]
        drift["drifted_names"] = sorted(drift["drifted_names"])[:NAMES_KEPT]
        return {"drift": drift, "heartbeat": heartbeat}
