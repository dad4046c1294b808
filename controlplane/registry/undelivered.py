"""Events that could not be delivered, kept for the operator (in the registry's meta table).

    PartitionKey                  RowKey               what
    ~undelivered|<cloud_id>       <event id>|<sink>    the event's type, the sink, why, when

A dead receiver never fails a twin: its job records the event here once Durable's retries are
spent, and carries on. One small partition per twin, so "what did twin X miss" is one query.
Nothing here is secret: the reason is the receiver's status or the refused address, never a key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure.data.tables import TableClient, UpdateMode

from controlplane.registry.entities import odata_str

PREFIX = "~undelivered|"
MAX_REASON = 1024


class UndeliveredEvents:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def record(self, *, cloud_id: str, event_id: str, event_type: str, sink: str, reason: str) -> None:
        """Idempotent: a replayed record rewrites the same entity."""
        self._table.upsert_entity(
            {
                "PartitionKey": PREFIX + cloud_id,
                "RowKey": f"{event_id}|{sink}",
                "event_id": event_id,
                "type": event_type,
                "sink": sink,
                "reason": reason[:MAX_REASON],
                "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            mode=UpdateMode.REPLACE,
        )

    def list(self, cloud_id: str) -> list[dict[str, Any]]:
        query = f"PartitionKey eq {odata_str(PREFIX + cloud_id)}"
        return [
            {key: entity[key] for key in ("event_id", "type", "sink", "reason", "recorded_at")}
            for entity in self._table.query_entities(query)
        ]
