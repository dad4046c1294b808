"""Publishing one event to the Event Grid topic (CP_EVENTGRID_ENDPOINT) with the control plane's identity.

``EventGridPublisherClient`` (azure-eventgrid, Event Grid basic topics) sends CloudEvents as
``application/cloudevents-batch+json`` to ``{endpoint}?api-version=2018-01-01`` (azure-rest-api-specs
specification/eventgrid/data-plane/EventGrid/stable/2018-01-01/EventGrid.json, PublishCloudEventEvents),
with a bearer token for ``https://eventgrid.azure.net/.default``; the identity needs the
EventGrid Data Sender role on the topic (Learn: azure/event-grid/security-authentication). The event
goes as its CloudEvents JSON dict, exactly as the domain built it.
"""

from __future__ import annotations

import functools
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError
from azure.eventgrid import EventGridPublisherClient
from azure.identity import DefaultAzureCredential

from controlplane.arm.clients import SandboxCredential
from controlplane.settings import Settings

# Answers that no retry can change: the event or the request is wrong. Anything else (401/403 while a
# new role assignment propagates, 429, 5xx, no answer) is worth another attempt.
PERMANENT_STATUSES = frozenset({400, 404, 413})


class EventGridRefused(Exception):
    """Event Grid refused the event for good (a 4xx no retry can change)."""


@functools.lru_cache(maxsize=4)
def _client(endpoint: str, credential_kind: str) -> EventGridPublisherClient:
    credential: TokenCredential
    if credential_kind == "sandbox":
        credential = SandboxCredential()  # the same fixed token, loopback only
    else:
        credential = DefaultAzureCredential()
    return EventGridPublisherClient(endpoint, credential)


def publish_to_topic(cloudevent: dict[str, Any], settings: Settings) -> None:
    """Send one event; EventGridRefused for a permanent refusal, azure-core errors for the rest."""
    assert settings.eventgrid_endpoint, "callers check that the topic is configured"
    options: dict[str, Any] = {}
    if settings.events_ca_bundle:
        options["connection_verify"] = settings.events_ca_bundle  # azure-core's per-request TLS option
    try:
        _client(settings.eventgrid_endpoint, settings.eventgrid_credential).send([cloudevent], **options)
    except HttpResponseError as exc:
        if exc.status_code in PERMANENT_STATUSES:
            raise EventGridRefused(f"Event Grid answered {exc.status_code}: {exc.reason}") from exc
        raise


def reset_eventgrid_clients() -> None:
    _client.cache_clear()
