"""The process-wide registry, built from app settings (connection string or managed identity)."""

from __future__ import annotations

from typing import Any

from azure.data.tables import TableServiceClient
from azure.identity import DefaultAzureCredential

from controlplane.registry.twin_registry import TwinRegistry
from controlplane.settings import get_settings

# Table Storage ends any operation at 30 s itself (Learn: "Setting timeouts for Table service
# operations"), so waiting longer for an answer only holds a request; a connection that is not made
# in 5 s is a storage outage, which azure-core's retries then meet and the API answers with a 503.
CONNECTION_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS = 5, 30


def registry_from_settings(settings: Any, **client_options: Any) -> TwinRegistry:
    """The registry the settings describe: a connection string, or a table endpoint with managed identity.
    ``client_options`` go to the ``TableServiceClient`` (the benchmarks pass a ``raw_response_hook``)."""
    if settings.table_endpoint:
        service = TableServiceClient(
            endpoint=settings.table_endpoint,
            credential=DefaultAzureCredential(),
            connection_timeout=CONNECTION_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            **client_options,
        )
    else:
        service = TableServiceClient.from_connection_string(
            settings.storage_connection,
            connection_timeout=CONNECTION_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            **client_options,
        )
    return TwinRegistry.from_service(service, settings.registry_table)


_default_registry: TwinRegistry | None = None


def default_registry() -> TwinRegistry:
    """The process-wide registry from app settings. Building it makes no call: its tables are made at
    deploy time (infra/, or ``python -m controlplane.registry.create_tables`` locally), never by a request."""
    global _default_registry
    if _default_registry is None:
        _default_registry = registry_from_settings(get_settings())
    return _default_registry


def reset_default_registry() -> None:
    global _default_registry
    _default_registry = None
