"""Orchestrators and activities through the worker, with the binding data the Durable extension sends.

The extension talks to Python through the "legacy" out-of-proc protocol (Azure/azure-functions-durable-extension,
``src/WebJobs.Extensions.DurableTask``):

- Orchestrator: the trigger value is the context as a JSON *string* (``OrchestrationTriggerAttributeBindingProvider``
  ``OrchestrationContextToString``: history, input, instanceId, isReplaying, parentInstanceId, schema
  versions, timer settings), so ``TypedData.string``. The worker answers with the orchestrator state
  (``$return``, JSON). A replay that raised comes back as a failed invocation whose exception message
  carries the state after ``\\n\\n$OutOfProcData$:`` (``OutOfProcExceptionHelpers.TryExtractOutOfProcStateJson``,
  read from the host's ``Result: ... Exception: ... Stack: ...`` message).
- Activity: the trigger value is the input converted to ``string`` (``DurableActivityContext.GetInput``, "legacy
  OOProc protocol case (JS, Python, PowerShell)"): a JSON string value arrives *unquoted*, any other value
  as its compact JSON text; the host sends a string as ``TypedData.string``. Binding data adds
  ``instanceId``. The worker's return value (JSON) becomes ``TaskCompleted.Result``. A failed invocation
  becomes ``TaskFailed`` with reason ``Activity function '<name>' failed: <message>`` (``TaskActivityShim``).
- A ``durableClient`` input gets the client payload's JSON text (``BindingHelper.DurableOrchestrationClientToString``).
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.durable.errors import FunctionNotFoundError
from sandbox.durable.functions import OUT_OF_PROC_LABEL, OrchestratorFailed
from sandbox.worker.library import LanguageWorker
from sandbox.worker.metadata import IndexedFunction

# OutOfProcExceptionHelpers.cs labels within the host's RpcException message (host RpcException.cs:
# "Result: {result}\nException: {message}\nStack: {stack}").
_MESSAGE_LABEL, _STACK_LABEL, _DATA_LABEL = "\nException:", "\nStack:", "\n\n" + OUT_OF_PROC_LABEL


class ActivityFailed(Exception):
    """A failed activity invocation, as the extension reports it in ``TaskFailed``."""

    def __init__(self, reason: str, details: str) -> None:
        super().__init__(reason)
        self.details = details


def host_exception_message(response: Any) -> str:
    """The message of the host's RpcException for a failed invocation (``StatusResultExtensions.GetRpcException``)."""
    exception = response.result.exception
    return f"Result: Failure{_MESSAGE_LABEL} {exception.message}{_STACK_LABEL} {exception.stack_trace}"


def friendly_message(host_message: str) -> str:
    """``TryGetFullOutOfProcMessage`` then ``TryGetExceptionWithFriendlyMessage``: the text before any state."""
    start = host_message.index(_MESSAGE_LABEL) + len(_MESSAGE_LABEL)
    message = host_message[start : host_message.index(_STACK_LABEL)]
    return message.split(_DATA_LABEL, 1)[0]


def out_of_proc_state(host_message: str) -> str | None:
    """``TryExtractOutOfProcStateJson``: the state JSON after the label, within the message part."""
    start = host_message.index(_MESSAGE_LABEL) + len(_MESSAGE_LABEL)
    message = host_message[start : host_message.index(_STACK_LABEL)]
    _, label, state = message.partition(_DATA_LABEL)
    return state or None if label else None


def activity_input_string(input_text: str | None) -> str | None:
    """The activity trigger's value for a legacy out-of-proc worker (``DurableActivityContext.GetInput(string)``).

    ``JValue`` inputs go through ``value.ToObject(typeof(string))``: a string is passed as is (no quotes), a
    number or boolean as its .NET text, null as null. Objects and arrays are ``jToken.ToString(Formatting.None)``.
    """
    if input_text is None:
        return None
    token = json.loads(input_text)
    if token is None:
        return None
    if isinstance(token, str):
        return token
    if isinstance(token, bool):
        return "True" if token else "False"  # Convert.ToString(bool)
    if isinstance(token, int | float):
        return json.dumps(token)
    return json.dumps(token, separators=(",", ":"), ensure_ascii=False)


class WorkerDurableFunctions:
    """The driver's ``DurableFunctions`` for an app indexed by the worker."""

    def __init__(self, worker: LanguageWorker) -> None:
        self.worker = worker
        self.orchestrators = self._by_durable_name("orchestrationtrigger")
        self.activities = self._by_durable_name("activitytrigger")

    def _by_durable_name(self, trigger_type: str) -> dict[str, IndexedFunction]:
        table: dict[str, IndexedFunction] = {}
        for function in self.worker.functions.values():
            if function.trigger_type.lower() == trigger_type and function.durable_name:
                table[function.durable_name] = function
        return table

    def check_orchestrator(self, name: str) -> None:
        if name not in self.orchestrators:
            raise FunctionNotFoundError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Additional info: the following are the known orchestrator functions: {sorted(self.orchestrators)}."
            )

    def replay(self, orchestrator_name: str, context_json: str, *, instance_id: str) -> str:
        self.check_orchestrator(orchestrator_name)
        function = self.orchestrators[orchestrator_name]
        protos = self.worker.protos
        trigger_name = str(function.trigger["name"])
        context = protos.TypedData(string=context_json)
        response = self.worker.invoke(function.name, {trigger_name: context}, trigger_metadata={trigger_name: context})
        if response.result.status != protos.StatusResult.Success:
            message = host_exception_message(response)
            raise OrchestratorFailed(friendly_message(message).strip(), out_of_proc_state(message))
        return _text(response.return_value)

    def run_activity(
        self, activity_name: str, input_text: str | None, *, instance_id: str, client_json: str | None
    ) -> str:
        function = self.activities.get(activity_name)
        if function is None:
            raise FunctionNotFoundError(
                f"The function '{activity_name}' doesn't exist, is disabled, or is not an activity function. "
                f"Additional info: the following are the known activity functions: {sorted(self.activities)}."
            )
        protos = self.worker.protos
        value = activity_input_string(input_text)
        inputs = {
            str(function.trigger["name"]): protos.TypedData() if value is None else protos.TypedData(string=value)
        }
        for binding in function.bindings_of_type("durableClient"):
            if client_json is None:
                raise RuntimeError(f"activity {activity_name} needs a durable client: start a DurableClientServer")
            inputs[str(binding["name"])] = protos.TypedData(string=client_json)
        metadata = {"instanceId": protos.TypedData(string=instance_id)}
        response = self.worker.invoke(function.name, inputs, trigger_metadata=metadata)
        if response.result.status != protos.StatusResult.Success:
            message = host_exception_message(response)
            reason = f"Activity function '{activity_name}' failed: {friendly_message(message)}"
            raise ActivityFailed(reason, json.dumps({"message": message}))
        return _text(response.return_value)


def _text(value: Any) -> str:
    """The JSON text of a ``$return`` TypedData (the extension reads it as a JToken)."""
    kind = value.WhichOneof("data")
    if kind in ("json", "string"):
        return str(getattr(value, kind))
    if kind is None:
        return "null"
    if kind in ("int", "double"):
        return json.dumps(getattr(value, kind))
    raise ValueError(f"the worker returned TypedData {kind!r} where the extension expects JSON")
