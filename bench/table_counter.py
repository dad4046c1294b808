"""Count what Table Storage really served: requests, entities returned, and queries that scan.

An azure-core ``raw_response_hook`` (its ``CustomHookPolicy``, which azure-data-tables puts in
every pipeline it builds and shares with the ``TableClient``s a ``TableServiceClient`` hands out;
``per_call_policies`` is not passed on to them), so it sees every answer the registry's tables get,
each retry's too. Entities are counted from the answer itself: a query's page is
``{"value": [...]}`` (the Table service's JSON format, ``odata=minimalmetadata``), a point read
is one entity. A query whose ``$filter`` names a property that is not ``PartitionKey`` or
``RowKey`` makes the service read entities it then drops (Learn: "Design for querying", a filter
on other properties is a partition or table scan), and the entities it returns understate what it
read; such queries are counted apart (``filtered_queries``), so a loop that reports 0 of them
has its every read in ``entities``. Benchmark and test tooling only; never deployed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.pipeline import PipelineResponse

# A property name at the start of a comparison (``status eq 'x'``), outside quoted literals.
_COMPARISON = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+(?:eq|ne|gt|ge|lt|le)\s")
_KEYS = {"PartitionKey", "RowKey"}


def filter_properties(odata_filter: str) -> set[str]:
    """The properties an OData ``$filter`` compares (quoted literals removed first)."""
    unquoted = re.sub(r"'(?:[^']|'')*'", "''", odata_filter)
    return set(_COMPARISON.findall(unquoted))


@dataclass
class TableCounts:
    requests: int = 0
    entities: int = 0
    queries: int = 0
    filtered_queries: int = 0
    writes: int = 0
    by_table: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "entities_read": self.entities, "queries": self.queries,
            "filtered_queries": self.filtered_queries, "writes": self.writes,
            "entities_read_by_table": dict(sorted(self.by_table.items())),
        }  # fmt: skip


class TableCounter:
    """Counts, thread-safe (activities read with thread pools). ``take()`` returns and resets them.

    Pass ``raw_response_hook=counter`` to the ``TableServiceClient``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = TableCounts()

    def totals(self) -> TableCounts:
        """The counts so far, kept (a copy)."""
        with self._lock:
            counts = self._counts
            return TableCounts(counts.requests, counts.entities, counts.queries, counts.filtered_queries,
                               counts.writes, dict(counts.by_table))  # fmt: skip

    def take(self) -> TableCounts:
        with self._lock:
            counts, self._counts = self._counts, TableCounts()
        return counts

    def __call__(self, response: PipelineResponse[Any, Any]) -> None:
        http_request, http_response = response.http_request, response.http_response
        url = urlsplit(http_request.url)
        table = url.path.rsplit("/", 1)[-1].split("(", 1)[0]
        entities = 0
        is_query = False
        filtered = False
        if http_request.method == "GET" and http_response.status_code == 200:
            body = json.loads(http_response.body() or b"{}")
            if isinstance(body.get("value"), list):
                entities, is_query = len(body["value"]), True
                wanted = parse_qs(url.query).get("$filter", [""])[0]
                filtered = bool(filter_properties(wanted) - _KEYS)
            elif "PartitionKey" in body:
                entities = 1
        with self._lock:
            counts = self._counts
            counts.requests += 1
            counts.entities += entities
            counts.queries += is_query
            counts.filtered_queries += filtered
            counts.writes += http_request.method in {"POST", "PUT", "MERGE", "PATCH", "DELETE"}
            if entities:
                counts.by_table[table] = counts.by_table.get(table, 0) + entities


# This process's counter for the benchmarks' fleet (bench.fleet_rig, bench.activity_hosts).
PROCESS_COUNTER = TableCounter()


def count_default_registry(counter: TableCounter = PROCESS_COUNTER) -> None:
    """Make this process's registry (``controlplane.registry.default_registry``) count through ``counter``:
    the one the settings describe, with the hook on its client."""
    from controlplane.registry import factory
    from controlplane.settings import get_settings

    factory._default_registry = factory.registry_from_settings(get_settings(), raw_response_hook=counter)


TABLE_KEYS = ("table_requests", "table_writes", "table_entities_read")


def table_totals(counter: TableCounter = PROCESS_COUNTER) -> dict[str, int]:
    """This process's registry traffic so far, as the benchmarks' usage figures name it."""
    counts = counter.totals()
    return {"table_requests": counts.requests, "table_writes": counts.writes, "table_entities_read": counts.entities}
