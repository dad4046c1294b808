"""What an activity hands its orchestrator: the step's typed output, ``Fenced``, or ``StepErrored``.

An activity that runs a step of a twin's life (controlplane ``activities.steps.run_step``) either does
the work, finds the twin taken over by another job (the registry's fence), or fails for good with a
``StepError`` (a transient failure raises instead, for Durable to retry). The orchestrator asks the
typed value which one it got (``isinstance``, ``match``), never a string key of a dict.

The wire is the JSON the activities returned before these types existed, byte for byte, so
Durable histories already recorded replay unchanged: a success is the output's own JSON object,
a fenced step ``{"fenced": true}``, a failed one ``{"error": {step, code, message, status, transient}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Self, TypeVar

from controlplane.domain.json_records import JsonObject
from controlplane.domain.step_errors import StepError


@dataclass(frozen=True)
class Fenced:
    """The row no longer belongs to this job in the status the step runs under: stop, quietly."""

    def to_json(self) -> JsonObject:
        return {"fenced": True}


@dataclass(frozen=True)
class StepErrored:
    """The step failed for good (or its retries are spent): the orchestration fails with ``error``."""

    error: StepError

    def to_json(self) -> JsonObject:
        return {"error": self.error.to_dict()}


class StepOutput(Protocol):
    """What a step's own output type offers: explicit JSON both ways."""

    def to_json(self) -> JsonObject: ...

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self: ...


T = TypeVar("T", bound=StepOutput)


def result_to_json(result: StepOutput | Fenced | StepErrored) -> JsonObject:
    """The JSON an activity returns for ``result``."""
    return result.to_json()


def result_from_json(data: object, output: type[T]) -> T | Fenced | StepErrored:
    """The typed result an orchestrator reads back from an activity's JSON (as recorded in its history)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"a step result is a JSON object, not {type(data).__name__}")
    if data.get("fenced"):
        return Fenced()
    if "error" in data:
        return StepErrored(StepError(**data["error"]))
    return output.from_json(data)
