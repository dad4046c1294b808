"""Traces, metrics and logs through OpenTelemetry, exported to Application Insights when configured.

One call from function_app.py (``setup_telemetry``) wires the Azure Monitor distro when
APPLICATIONINSIGHTS_CONNECTION_STRING is set; without it the OpenTelemetry API stays a no-op, so
nothing is exported and nothing changes. The rest of the product only uses the API: spans for each
HTTP route and activity (``http_span``, ``instrument_activities``), the ids they carry
(``annotate``, mirrored onto log records), and a few counters and histograms (``metrics``).
"""

from controlplane.telemetry.context import annotate, current_ids, install_log_ids
from controlplane.telemetry.setup import setup_telemetry
from controlplane.telemetry.spans import http_span, instrument_activities, log_answered_error

__all__ = [
    "annotate",
    "current_ids",
    "http_span",
    "install_log_ids",
    "instrument_activities",
    "log_answered_error",
    "setup_telemetry",
]
