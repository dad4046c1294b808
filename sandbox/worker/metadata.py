"""What the worker tells the host about each function, and the checks the host and extension apply to it.

The host builds everything from the worker's ``RpcFunctionMetadata``: routes and auth levels from the
HTTP trigger's raw binding, Durable registrations from the orchestration/activity triggers. Before it
uses a function it validates the metadata (Azure/azure-functions-host
``src/WebJobs.Script/Host/WorkerFunctionMetadataProvider.cs`` ``ValidateMetadata``/``ValidateBindings``,
``src/WebJobs.Script/Utility.cs`` ``ValidateName``/``ValidateBinding``); a function that fails is put in
error and never runs. :func:`host_errors` applies the same rules, plus what the Durable extension
requires of its bindings (Azure/azure-functions-durable-extension, cited at each rule), so a test can
prove the app would load on Azure as it loads here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Utility.cs FunctionNameValidationRegex (IgnoreCase).
FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$(?<!^host$)", re.IGNORECASE)
# Utility.cs BindingNameValidationRegex since host 4.1038 (azure-functions-host PR #10764 allowed snake
# case: before it, a Python parameter such as ``job_id`` put the function in error).
BINDING_NAME = re.compile(r"^(?!.*__)([a-zA-Z_][a-zA-Z0-9_]{0,127}|\$return)$")
# HttpTriggerAttribute.AuthLevel is Microsoft.Azure.WebJobs.Extensions.Http.AuthorizationLevel.
AUTH_LEVELS = {"anonymous", "user", "function", "system", "admin"}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"}
# The Durable extension's binding types (DurableTaskExtension.cs binding rules; OrchestrationClient is
# the 1.x name it still accepts).
DURABLE_CLIENT_TYPES = {"durableclient", "orchestrationclient"}
DURABLE_TRIGGER_TYPES = {"orchestrationtrigger", "activitytrigger", "entitytrigger"}


@dataclass(frozen=True)
class IndexedFunction:
    """One entry of the worker's FunctionMetadataResponse, as the host reads it."""

    name: str
    function_id: str
    bindings: tuple[dict[str, Any], ...]  # raw_bindings, parsed (the host parses them with JObject.Parse)
    binding_info: dict[str, tuple[str, int]]  # RpcFunctionMetadata.bindings: name -> (type, direction)

    @classmethod
    def from_proto(cls, metadata: Any) -> IndexedFunction:
        return cls(
            name=metadata.name,
            function_id=metadata.function_id,
            bindings=tuple(json.loads(raw) for raw in metadata.raw_bindings),
            binding_info={name: (info.type, info.direction) for name, info in metadata.bindings.items()},
        )

    @property
    def trigger(self) -> dict[str, Any]:
        """The first trigger binding (BindingMetadata.IsTrigger: the type ends with "Trigger")."""
        return next(b for b in self.bindings if _is_trigger(b))

    @property
    def trigger_type(self) -> str:
        return str(self.trigger["type"])

    def bindings_of_type(self, binding_type: str) -> list[dict[str, Any]]:
        return [b for b in self.bindings if str(b.get("type", "")).lower() == binding_type.lower()]

    @property
    def durable_name(self) -> str | None:
        """The name the Durable extension registers an orchestrator or activity under, else None.

        ``[OrchestrationTrigger(Orchestration=...)]`` / ``[ActivityTrigger(Activity=...)]`` first, then
        the function name (OrchestrationTriggerAttributeBindingProvider.cs / ActivityTrigger...cs
        ``TryCreateAsync``: "Priority for getting the name is [OrchestrationTrigger], [FunctionName]").
        """
        trigger = self.trigger
        kind = str(trigger["type"]).lower()
        if kind == "orchestrationtrigger":
            return str(trigger.get("orchestration") or self.name)
        if kind == "activitytrigger":
            return str(trigger.get("activity") or self.name)
        return None


def _is_trigger(binding: dict[str, Any]) -> bool:
    return str(binding.get("type", "")).lower().endswith("trigger")


def _direction(binding: dict[str, Any]) -> str:
    return str(binding.get("direction", "")).lower()


def host_errors(functions: list[IndexedFunction]) -> dict[str, list[str]]:
    """Function name -> why the host or the Durable extension would refuse it (empty when all load)."""
    errors: dict[str, list[str]] = {}
    for function in functions:
        problems = _function_errors(function)
        if problems:
            errors[function.name] = problems
    for name, problem in _durable_name_clashes(functions):
        errors.setdefault(name, []).append(problem)
    return errors


def _function_errors(function: IndexedFunction) -> list[str]:
    problems: list[str] = []
    if not FUNCTION_NAME.match(function.name):
        problems.append(f"'{function.name}' is not a valid function name.")  # Utility.ValidateName
    seen: set[str] = set()
    for binding in function.bindings:
        name = str(binding.get("name", ""))
        if not BINDING_NAME.match(name):  # Utility.ValidateBinding
            problems.append(f"The binding name {name} is invalid. Please assign a valid name to the binding.")
        if name == "$return" and _direction(binding) != "out":
            problems.append("$return bindings must specify a direction of 'out'.")
        if name.lower() in seen:  # ValidateBindings: OrdinalIgnoreCase
            problems.append(f"Multiple bindings with name '{name}' discovered. Binding names must be unique.")
        seen.add(name.lower())
    triggers = [b for b in function.bindings if _is_trigger(b) and _direction(b) == "in"]
    if not triggers:
        problems.append("No trigger binding specified. A function must have a trigger input binding.")
        return problems
    if len(triggers) > 1:  # FunctionDescriptorProvider.cs
        problems.append("Multiple trigger bindings defined. A function can only have a single trigger binding.")
    problems += _http_errors(function) + _durable_errors(function)
    return problems


def _http_errors(function: IndexedFunction) -> list[str]:
    trigger = function.trigger
    if str(trigger["type"]).lower() != "httptrigger":
        return []
    problems = []
    level = str(trigger.get("authLevel", "function")).lower()
    if level not in AUTH_LEVELS:
        problems.append(f"authLevel {trigger.get('authLevel')!r} is not an AuthorizationLevel")
    bad_methods = {str(m).upper() for m in trigger.get("methods") or []} - HTTP_METHODS
    if bad_methods:
        problems.append(f"unknown HTTP methods {sorted(bad_methods)}")
    return problems


def _durable_errors(function: IndexedFunction) -> list[str]:
    problems = []
    for binding in function.bindings:
        kind = str(binding.get("type", "")).lower()
        # DurableClientAttribute is an input binding ([Binding] attribute; the rule converts IDurableClient to
        # string, DurableTaskExtension.cs AddBindingRule<DurableClientAttribute>); it may sit beside any trigger.
        if kind in DURABLE_CLIENT_TYPES and _direction(binding) != "in":
            problems.append(f"durable client binding {binding.get('name')} must have direction 'in'")
        if kind in DURABLE_TRIGGER_TYPES and _direction(binding) != "in":
            problems.append(f"{binding.get('type')} {binding.get('name')} must have direction 'in'")
    if function.trigger_type.lower() == "orchestrationtrigger" and (function.durable_name or "").startswith("@"):
        problems.append("Orchestration names must not start with @.")  # OrchestrationTriggerAttributeBindingProvider
    return problems


def _durable_name_clashes(functions: list[IndexedFunction]) -> list[tuple[str, str]]:
    """Two functions under one Durable name: RegisterOrchestrator/RegisterActivity keep only the last."""
    owners: dict[tuple[str, str], list[str]] = {}
    for function in functions:
        if function.durable_name is not None:
            key = (function.trigger_type.lower(), function.durable_name.lower())
            owners.setdefault(key, []).append(function.name)
    return [
        (name, f"{kind} name '{durable}' is also claimed by {sorted(set(names) - {name})}")
        for (kind, durable), names in owners.items()
        if len(names) > 1
        for name in names
    ]
