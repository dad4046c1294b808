"""Activities that tell other systems about a transition: publish one event to one sink, or record a miss.

``publish_event`` is called with Durable's retry (orchestrators/events.py): a failure worth
retrying raises, so Durable backs off and calls again with the same event id (consumers drop the
duplicates a retry or replay may cause). A failure no retry can change returns
``{"delivered": False}`` at once. Either way the job records the miss and carries on.
"""

from __future__ import annotations

import logging
from typing import Any

import azure.durable_functions as df
from azure.core.exceptions import AzureError

from activities.payloads import JsonObject
from controlplane.domain.events import LifecycleEvent
from controlplane.events import eventgrid, webhook
from controlplane.registry import default_registry
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

EVENTGRID, CALLBACK = "eventgrid", "callback"


class EventNotDelivered(Exception):
    """One attempt failed in a way a later attempt may not (Durable retries it)."""


@blueprint.activity_trigger(input_name="delivery")
def publish_event(delivery: JsonObject) -> dict[str, Any]:
    """Send ``delivery["event"]`` to ``delivery["sink"]``: the Event Grid topic or the twin's callback URL."""
    event = LifecycleEvent.from_input(delivery["event"])
    sink = delivery["sink"]
    settings = get_settings()
    cloudevent = event.to_cloudevent(settings.event_source)
    where = f"event {event.id} ({event.transition.event_type}) of {event.cloud_id} to {sink}"
    try:
        if sink == EVENTGRID:
            if not settings.eventgrid_endpoint:
                return {"delivered": False, "skipped": True, "reason": "CP_EVENTGRID_ENDPOINT is no longer set"}
            eventgrid.publish_to_topic(cloudevent, settings)
        elif sink == CALLBACK:
            webhook.deliver(cloudevent, delivery["callback_url"], settings)
        else:
            return {"delivered": False, "reason": f"unknown sink {sink}"}
    except (eventgrid.EventGridRefused, webhook.DeliveryRefused) as refused:
        logger.warning("%s refused for good: %s", where, refused)
        return {"delivered": False, "reason": str(refused)}
    except (AzureError, webhook.DeliveryFailed) as failed:
        logger.warning("%s failed, Durable will retry: %s", where, failed)
        raise EventNotDelivered(f"{sink}: {failed}") from None
    logger.info("delivered %s", where)
    return {"delivered": True, "id": event.id}


@blueprint.activity_trigger(input_name="miss")
def record_undelivered_event(miss: JsonObject) -> dict[str, Any]:
    """Keep an event no retry delivered, for the operator (controlplane.registry.undelivered)."""
    logger.warning(
        "event %s (%s) of %s was not delivered to %s: %s",
        miss["event_id"], miss["type"], miss["cloud_id"], miss["sink"], miss["reason"],
    )  # fmt: skip
    default_registry().undelivered_events.record(
        cloud_id=miss["cloud_id"], event_id=miss["event_id"], event_type=miss["type"],
        sink=miss["sink"], reason=miss["reason"],
    )  # fmt: skip
    return {"recorded": True}
