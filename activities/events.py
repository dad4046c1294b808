"""Activities that tell other systems about a transition: publish one event to one sink, or record a miss.

``publish_event`` is called with Durable's retry (orchestrators/events.py): a failure worth
retrying raises, so Durable backs off and calls again with the same event id (consumers drop the
duplicates a retry or replay may cause). A failure no retry can change returns
``{"delivered": False}`` at once. Either way the job records the miss and carries on.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
from azure.core.exceptions import AzureError

from activities.payloads import JsonObject
from controlplane.domain.step_outputs import Recorded
from controlplane.domain.step_requests import Delivered, EventDelivery, UndeliveredEvent
from controlplane.events import eventgrid, webhook
from controlplane.registry import default_registry
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)
blueprint = df.Blueprint()

EVENTGRID, CALLBACK = "eventgrid", "callback"


class EventNotDelivered(Exception):
    """One attempt failed in a way a later attempt may not (Durable retries it)."""


@blueprint.activity_trigger(input_name="delivery")
def publish_event(delivery: JsonObject) -> JsonObject:
    """Send the delivery's event to its sink: the Event Grid topic or the twin's callback URL."""
    given = EventDelivery.from_json(delivery)
    event, sink = given.event, given.sink
    settings = get_settings()
    cloudevent = event.to_cloudevent(settings.event_source)
    where = f"event {event.id} ({event.transition.event_type}) of {event.cloud_id} to {sink}"
    try:
        if sink == EVENTGRID:
            if not settings.eventgrid_endpoint:
                return Delivered(False, skipped=True, reason="CP_EVENTGRID_ENDPOINT is no longer set").to_json()
            eventgrid.publish_to_topic(cloudevent, settings)
        elif sink == CALLBACK:
            assert given.callback_url is not None, "a callback delivery carries the twin's callback URL"
            webhook.deliver(cloudevent, given.callback_url, settings)
        else:
            return Delivered(False, reason=f"unknown sink {sink}").to_json()
    except (eventgrid.EventGridRefused, webhook.DeliveryRefused) as refused:
        logger.warning("%s refused for good: %s", where, refused)
        return Delivered(False, reason=str(refused)).to_json()
    except (AzureError, webhook.DeliveryFailed) as failed:
        logger.warning("%s failed, Durable will retry: %s", where, failed)
        raise EventNotDelivered(f"{sink}: {failed}") from None
    logger.info("delivered %s", where)
    return Delivered(True, id=event.id).to_json()


@blueprint.activity_trigger(input_name="miss")
def record_undelivered_event(miss: JsonObject) -> JsonObject:
    """Keep an event no retry delivered, for the operator (controlplane.registry.undelivered)."""
    lost = UndeliveredEvent.from_json(miss)
    logger.warning(
        "event %s (%s) of %s was not delivered to %s: %s",
        lost.event_id,
        lost.type,
        lost.cloud_id,
        lost.sink,
        lost.reason,
    )
    default_registry().undelivered_events.record(
        cloud_id=lost.cloud_id, event_id=lost.event_id, event_type=lost.type, sink=lost.sink, reason=lost.reason
    )
    return Recorded().to_json()
