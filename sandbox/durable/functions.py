"""How the Durable driver reaches an app's orchestrators and activities: the ``DurableFunctions`` interface.

Two implementations:

- ``sandbox.worker.durable.WorkerDurableFunctions`` -- the product's app, through Microsoft's Python worker
  (``azure-functions-runtime``) with binding data shaped as the host and the Durable extension shape it.
  The rig and the sandbox use it.
- :class:`DirectFunctions` here -- a DFApp's functions called directly, through the same converters the
  worker uses (``ActivityTriggerConverter``, the SDK's orchestrator handle). Only the driver's own tests
  use it, with toy apps: the worker indexes one app per process (it keeps its state in module globals and
  a DFApp lists its functions once), and that one app is the product.

``DFApp.get_functions()`` can run only once per app (a second call fails on duplicate names), so
:class:`DirectFunctions` accepts either the app or the list already fetched from it.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import azure.functions as func
from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from sandbox.durable.errors import FunctionNotFoundError
from sandbox.durable.event_loop import shared_loop

CoroutineRunner = Callable[[Coroutine[Any, Any, Any]], Any]
OUT_OF_PROC_LABEL = "$OutOfProcData$:"


class OrchestratorFailed(Exception):
    """A replay ended in an exception; ``state_json`` is the orchestrator state it carried, if any."""

    def __init__(self, message: str, state_json: str | None) -> None:
        super().__init__(message)
        self.message, self.state_json = message, state_json


class DurableFunctions(Protocol):
    """What the driver needs from an app: its orchestrators and activities, by their Durable names."""

    def check_orchestrator(self, name: str) -> None:
        """Raise FunctionNotFoundError unless ``name`` is an orchestrator (the extension's 400 on start)."""

    def replay(self, orchestrator_name: str, context_json: str, *, instance_id: str) -> str:
        """One episode: the orchestration context JSON in, the orchestrator state JSON out.

        Raises :class:`OrchestratorFailed` when the orchestrator raised.
        """

    def run_activity(
        self, activity_name: str, input_text: str | None, *, instance_id: str, client_json: str | None
    ) -> str:
        """Run an activity on the JSON text its orchestrator scheduled; return ``TaskCompleted.Result``.

        Raises FunctionNotFoundError for an unknown activity, or any exception for a failed one: its
        ``str`` becomes ``TaskFailed.Reason`` and its ``details`` attribute (if any) ``Details``.
        """


@dataclass(frozen=True)
class InvocationContext:
    """The bits of ``func.Context`` a function may read when it declares a ``context`` parameter."""

    invocation_id: str
    function_name: str
    function_directory: str = ""
    trace_context: Any = None
    retry_context: Any = None
    thread_local_storage: Any = None


@dataclass(frozen=True)
class RegisteredFunction:
    durable_name: str
    function: Any  # azure.functions.decorators.core.Function

    @property
    def function_name(self) -> str:
        return self.function.get_function_name()

    @property
    def user_function(self) -> Callable[..., Any]:
        return self.function.get_user_function()

    @property
    def trigger_parameter(self) -> str:
        return self.function.get_trigger().name


class FunctionRegistry:
    """Orchestrators and activities of one app, by the names ``start_new``/``call_activity`` use."""

    def __init__(self, app_or_functions: Any) -> None:
        functions: Iterable[Any] = (
            app_or_functions.get_functions() if hasattr(app_or_functions, "get_functions") else app_or_functions
        )
        self.functions: list[Any] = list(functions)
        self.orchestrators: dict[str, RegisteredFunction] = {}
        self.activities: dict[str, RegisteredFunction] = {}
        self.by_function_name: dict[str, Any] = {}
        for function in self.functions:
            self.by_function_name[function.get_function_name()] = function
            trigger = function.get_trigger()
            trigger_type = getattr(trigger, "type", None)
            if trigger_type == "orchestrationTrigger":
                self._register(self.orchestrators, function, getattr(trigger, "orchestration", None))
            elif trigger_type == "activityTrigger":
                self._register(self.activities, function, getattr(trigger, "activity", None))

    @staticmethod
    def _register(table: dict[str, RegisteredFunction], function: Any, declared_name: str | None) -> None:
        # The extension knows a function by its function name; the trigger's own name is an alias.
        for name in {function.get_function_name(), declared_name or function.get_function_name()}:
            table[name] = RegisteredFunction(name, function)

    def orchestrator(self, name: str) -> RegisteredFunction:
        try:
            return self.orchestrators[name]
        except KeyError:
            raise FunctionNotFoundError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
                f"Known orchestrators: {sorted(self.orchestrators)}"
            ) from None

    def activity(self, name: str) -> RegisteredFunction:
        try:
            return self.activities[name]
        except KeyError:
            raise FunctionNotFoundError(
                f"The function '{name}' doesn't exist, is disabled, or is not an activity function. "
                f"Known activities: {sorted(self.activities)}"
            ) from None

    def function(self, function_name: str) -> Any:
        try:
            return self.by_function_name[function_name]
        except KeyError:
            raise FunctionNotFoundError(f"No function named '{function_name}'") from None


def call_user_function(
    user_function: Callable[..., Any], kwargs: dict[str, Any], *, run_coroutine: CoroutineRunner | None
) -> Any:
    """Call a sync or async user function; coroutines go to ``run_coroutine`` (or a private loop)."""
    if inspect.iscoroutinefunction(user_function):
        coroutine = user_function(**kwargs)
        return run_coroutine(coroutine) if run_coroutine else asyncio.run(coroutine)
    result = user_function(**kwargs)
    if inspect.isawaitable(result):
        return run_coroutine(result) if run_coroutine else asyncio.run(result)  # type: ignore[arg-type]
    return result


def with_context_parameter(user_function: Callable[..., Any], kwargs: dict[str, Any], function_name: str) -> None:
    """Add ``context`` when the function declares it, as the worker does."""
    if "context" in inspect.signature(user_function).parameters and "context" not in kwargs:
        kwargs["context"] = InvocationContext(invocation_id=str(uuid.uuid4()), function_name=function_name)


def invoke_activity(
    activity: RegisteredFunction,
    input_text: str | None,
    *,
    run_coroutine: CoroutineRunner | None = None,
    client_json: str | None = None,
) -> str:
    """Run an activity as the worker would: JSON text in, JSON text (the ``TaskCompleted.Result``) out.

    An activity that also declares a durable client binding gets ``client_json`` for it (the host
    injects the same binding payload into any function that asks for one).
    Exceptions from the user function propagate unchanged; the caller turns them into ``TaskFailed``.
    """
    datum = meta.Datum(type="json", value=input_text if input_text is not None else "null")
    value = ActivityTriggerConverter.decode(datum, trigger_metadata=None)
    kwargs: dict[str, Any] = {activity.trigger_parameter: value}
    _, client_name = http_binding_names(activity.function)
    if client_name is not None:
        if client_json is None:
            raise RuntimeError(f"activity {activity.durable_name} needs a durable client: start a DurableClientServer")
        kwargs[client_name] = client_json
    with_context_parameter(activity.user_function, kwargs, activity.function_name)
    result = call_user_function(activity.user_function, kwargs, run_coroutine=run_coroutine)
    return ActivityTriggerConverter.encode(result, expected_type=None).value


def call_orchestrator_handle(orchestrator: RegisteredFunction, context_json: str) -> str:
    """One replay through the SDK's real handle: context JSON in, orchestrator state JSON out."""
    from azure.functions._durable_functions import OrchestrationContext

    return orchestrator.user_function(OrchestrationContext(context_json))


def http_binding_names(function: Any) -> tuple[str, str | None]:
    """(request parameter, durable client parameter or None) of an HTTP-triggered function."""
    request_name = function.get_trigger().name
    client_name = next((b.name for b in function.get_bindings() if b.type == "durableClient"), None)
    return request_name, client_name


def as_http_response(result: Any) -> func.HttpResponse:
    """What the worker makes of an HTTP function's return value."""
    if isinstance(result, func.HttpResponse):
        return result
    if result is None:
        return func.HttpResponse(status_code=204)
    return func.HttpResponse(result if isinstance(result, str | bytes) else str(result))


class DirectFunctions:
    """:class:`DurableFunctions` over a DFApp's functions, called directly (toy apps in the driver's tests)."""

    def __init__(self, app_or_functions: Any) -> None:
        self.registry = FunctionRegistry(app_or_functions)

    def check_orchestrator(self, name: str) -> None:
        self.registry.orchestrator(name)

    def replay(self, orchestrator_name: str, context_json: str, *, instance_id: str) -> str:
        try:
            return call_orchestrator_handle(self.registry.orchestrator(orchestrator_name), context_json)
        except Exception as exc:
            message, label, state_json = str(exc).partition(OUT_OF_PROC_LABEL)
            raise OrchestratorFailed(message.strip() or type(exc).__name__, state_json if label else None) from exc

    def run_activity(
        self, activity_name: str, input_text: str | None, *, instance_id: str, client_json: str | None
    ) -> str:
        activity = self.registry.activity(activity_name)
        return invoke_activity(activity, input_text, run_coroutine=shared_loop().run, client_json=client_json)
