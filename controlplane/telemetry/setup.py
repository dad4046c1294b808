"""Wire OpenTelemetry to Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set; else do nothing.

Follows Microsoft Learn, "Use OpenTelemetry with Azure Functions" (azure-functions/opentelemetry-howto,
Python pivot): the worker process calls ``configure_azure_monitor()`` from azure-monitor-opentelemetry,
and host.json's ``"telemetryMode": "OpenTelemetry"`` makes the host emit OpenTelemetry too so both
correlate. The distro also turns on azure-core's OpenTelemetry tracing (its "azure_sdk"
instrumentation), which is what makes every ARM and Table Storage call a dependency span.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from azure.core.settings import settings as azure_core_settings

from controlplane.telemetry.context import install_log_ids

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
_state = {"exporting": False}


def exporting() -> bool:
    return _state["exporting"]


def setup_telemetry(environ: Mapping[str, str] | None = None, **distro_options: Any) -> bool:
    """Configure exporting (once); True when telemetry goes somewhere. Safe to call with nothing set."""
    environ = os.environ if environ is None else environ
    install_log_ids()  # logs carry the ids whether or not they are exported
    connection_string = environ.get(CONNECTION_STRING, "").strip()
    if not connection_string:
        return False
    if not _state["exporting"]:
        from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415 - only when exporting

        configure_azure_monitor(connection_string=connection_string, **distro_options)
        trace_azure_sdk()
        _state["exporting"] = True
    return True


def trace_azure_sdk() -> None:
    """Make azure-core open a span per SDK call (ARM, Table Storage) under the current span."""
    azure_core_settings.tracing_implementation = "opentelemetry"
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
