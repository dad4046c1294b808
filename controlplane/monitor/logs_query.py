"""A rollout's error-rate gate: one KQL query over the bake window, through Microsoft's LogsQueryClient.

The query is the operator's (given in the rollout); its first table's first row's first column is
read as the error rate. A query that fails, answers partially, or answers no number fails the gate
closed: a bake that cannot see its signal does not pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from azure.core.exceptions import AzureError, HttpResponseError
from azure.monitor.query import LogsQueryClient, LogsQueryStatus

from controlplane.arm.clients import identity
from controlplane.domain.addresses import is_loopback_url
from controlplane.domain.rollout_gates import ErrorRateGate
from controlplane.settings import Settings

logger = logging.getLogger(__name__)
QUERY_SERVER_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ErrorRate:
    value: float | None  # None: no number came back
    reason: str = ""


def _client(settings: Settings) -> LogsQueryClient:
    if settings.arm_credential == "sandbox" and not is_loopback_url(settings.logs_query_endpoint):
        raise ValueError("the sandbox credential is only for a loopback Log Analytics stand-in")
    options: dict[str, object] = {"endpoint": settings.logs_query_endpoint}
    if settings.logs_query_ca_bundle:
        options["connection_verify"] = settings.logs_query_ca_bundle
    return LogsQueryClient(identity(settings), **options)


def error_rate(gate: ErrorRateGate, since: datetime, until: datetime, settings: Settings) -> ErrorRate:
    """The gate's error rate over [since, until]: the query's first number, or None with why not."""
    try:
        with _client(settings) as client:
            answer = client.query_workspace(
                gate.workspace_id, gate.query, timespan=(since, until), server_timeout=QUERY_SERVER_TIMEOUT_SECONDS
            )
    except HttpResponseError as exc:
        code = exc.error.code if exc.error else exc.status_code
        return ErrorRate(None, f"the query was refused ({code}): {str(exc.message)[:300]}")
    except (AzureError, ValueError) as exc:
        return ErrorRate(None, f"the query could not be sent: {type(exc).__name__}")
    if answer.status != LogsQueryStatus.SUCCESS:
        return ErrorRate(None, "the query answered only partially")
    tables = answer.tables
    if not tables or not tables[0].rows or not tables[0].rows[0]:
        return ErrorRate(None, "the query answered no rows")
    value = tables[0].rows[0][0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ErrorRate(None, f"the query's first column is not a number ({type(value).__name__})")
    return ErrorRate(float(value))
