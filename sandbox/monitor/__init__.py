"""Stand-ins for Azure Monitor's data plane (the Log Analytics query API)."""

from sandbox.monitor.logs_query import LogsQueryStandIn

__all__ = ["LogsQueryStandIn"]
