"""The Durable client's calls that can fail on the instance's state, each with its failure named.

The SDK's ``DurableOrchestrationClient`` (azure-functions-durable, ``models/DurableOrchestrationClient.py``)
turns the extension's answers into a bare ``Exception`` whose message is the only clue. The
extension's answers (Azure/azure-functions-durable-extension ``HttpApiHandler.cs``):

- raise event (``HandleRaiseEventRequestAsync``): 404 when no instance has the id; 410 Gone when it is
  Completed, Failed, Canceled or Terminated; 202 otherwise -- a Pending instance takes the event. The
  SDK raises "No instance with ID … found." for 404 and "Instance with ID … is gone: either completed
  or failed" for 410 (its ``switch_statement`` in ``raise_event``).
- terminate (``HandleTerminateInstanceRequestAsync``): 404 unknown, 410 ended, 202 otherwise. The SDK
  raises for 404 ("No instance with ID '…' found.") and returns quietly for 410.
- status: 404 for an unknown id; the SDK then returns a status whose ``runtime_status`` is None (it
  raises only for a status code outside 200/202/400/404/500).

Any other answer, or no answer (aiohttp's connection errors, a timeout), means the extension is not
there to ask: a 503 the caller may retry, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import azure.durable_functions as df

from controlplane.domain.errors import DependencyUnavailable

logger = logging.getLogger(__name__)


class InstanceNotFound(LookupError):
    """The extension knows no instance with this id (404)."""


class InstanceEnded(Exception):
    """The instance is Completed, Failed, Canceled or Terminated (410 Gone)."""


def _unavailable(operation: str, exc: BaseException) -> DependencyUnavailable:
    logger.warning("Durable client %s failed: %s", operation, type(exc).__name__)
    return DependencyUnavailable(
        f"the orchestration runtime did not take the {operation}; try again", dependency="durable"
    )


async def raise_event(client: df.DurableOrchestrationClient, instance_id: str, event_name: str, data: Any) -> None:
    """Raise ``event_name`` on a running or pending instance; InstanceNotFound / InstanceEnded otherwise."""
    try:
        await client.raise_event(instance_id, event_name, data)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _unavailable("event", exc) from exc
    except Exception as exc:  # noqa: BLE001 - the SDK's only signal is a bare Exception's message
        message = str(exc)
        if message.startswith(f"Instance with ID {instance_id} is gone"):
            raise InstanceEnded(message) from exc
        if message.startswith(f"No instance with ID {instance_id} found"):
            raise InstanceNotFound(message) from exc
        raise _unavailable("event", exc) from exc


async def terminate(client: df.DurableOrchestrationClient, instance_id: str, reason: str) -> None:
    """Terminate a running or pending instance; an ended one is left as it is; InstanceNotFound if none."""
    try:
        await client.terminate(instance_id, reason)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _unavailable("terminate", exc) from exc
    except Exception as exc:  # noqa: BLE001 - as above
        if str(exc).startswith(f"No instance with ID '{instance_id}' found"):
            raise InstanceNotFound(str(exc)) from exc
        raise _unavailable("terminate", exc) from exc


async def get_status(client: df.DurableOrchestrationClient, instance_id: str, **options: bool) -> Any:
    """The instance's status (``runtime_status`` None when there is no such instance)."""
    try:
        return await client.get_status(instance_id, **options)
    except Exception as exc:  # noqa: BLE001 - connection errors and "unexpected status code" alike
        raise _unavailable("status query", exc) from exc


async def start_new(client: df.DurableOrchestrationClient, name: str, instance_id: str, job_input: Any) -> None:
    """Start ``name`` as ``instance_id``; an instance of that id already underway counts as started.

    The extension answers 202 with the links, 409 while an instance of the id is Pending or Running
    (``OrchestrationAlreadyExistsException``; our ids are job ids we claimed, so that instance is this
    job), 400 for an orchestrator the app does not have. The SDK raises a bare Exception for each
    failure, with the extension's message.
    """
    try:
        await client.start_new(name, instance_id, job_input)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _unavailable("start", exc) from exc
    except Exception as exc:  # noqa: BLE001 - as above
        if "already exists" in str(exc).lower():
            logger.info("%s %s was already underway", name, instance_id)
            return
        logger.error("Durable refused to start %s %s: %s", name, instance_id, exc)
        raise _unavailable("start", exc) from exc
