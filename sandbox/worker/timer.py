"""A timer trigger fired as the host fires it: the ``TimerInfo`` object, serialized to JSON.

The timer extension (Azure/azure-webjobs-sdk-extensions ``TimerInfo``: ``Schedule``, ``ScheduleStatus``
with ``Last``/``Next``/``LastUpdated``, ``IsPastDue``) hands the host an object, and the host sends an
object it has no special case for as its Newtonsoft JSON (``GrpcMessageConversionExtensions.ToRpcDefault``),
so ``TypedData.json``. The sandbox has no scheduler: tests fire a timer when they mean it to run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sandbox.worker.durable import host_exception_message
from sandbox.worker.library import LanguageWorker


class TimerFunctionFailed(RuntimeError):
    """The timer function raised (the host logs it; the next occurrence runs as scheduled)."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fire_timer(
    worker: LanguageWorker, function_name: str, *, now: datetime, past_due: bool = False, client_json: str | None = None
) -> None:
    """Invoke a timer-triggered function once, for the occurrence due at ``now`` (with its durable client, if any)."""
    function = worker.function(function_name)
    if function.trigger_type != "timerTrigger":
        raise ValueError(f"{function_name} is a {function.trigger_type} function, not a timer")
    info = {
        "Schedule": {"AdjustForDST": True},
        "ScheduleStatus": {"Last": _iso(now - timedelta(hours=1)), "Next": _iso(now + timedelta(hours=1)),
                           "LastUpdated": _iso(now)},
        "IsPastDue": past_due,
    }  # fmt: skip
    data = worker.protos.TypedData(json=json.dumps(info))
    inputs = {str(function.trigger["name"]): data}
    for binding in function.bindings_of_type("durableClient"):
        if client_json is None:
            raise RuntimeError(f"{function_name} declares a durable client binding: start a DurableClientServer")
        # As for an HTTP function (sandbox/worker/http.py): the binding value is the client payload's JSON text.
        inputs[str(binding["name"])] = worker.protos.TypedData(string=client_json)
    response = worker.invoke(function_name, inputs)
    if response.result.status != worker.protos.StatusResult.Success:
        raise TimerFunctionFailed(host_exception_message(response))
