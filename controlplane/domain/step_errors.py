"""How a failed step is described, carried through Durable, and recorded on an errored row.

An activity raises TransientStepError to be retried by Durable; the orchestrator, once retries
are spent, recovers the StepError from the failure text (Durable carries only the message across).
Pure data: the meaning of an ARM failure is decided in ``controlplane.arm.errors``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

_MARKER = "ARM-STEP-ERROR:"


@dataclass(frozen=True)
class StepError:
    """A failed step, as recorded on an errored row: never contains a secret."""

    step: str
    code: str
    message: str
    status: int | None = None
    transient: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class StepFailure(Exception):
    """A failure outside ARM that a step reports with its own code (e.g. a code package that cannot be fetched)."""

    def __init__(self, code: str, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.transient = transient


class TransientStepError(Exception):
    """Raised by an activity so that call_activity_with_retry tries again."""

    def __init__(self, error: StepError) -> None:
        super().__init__(_MARKER + json.dumps(error.to_dict()))
        self.error = error


def error_from_failure(step: str, failure: BaseException) -> StepError:
    """Recover the StepError an activity raised, from the exception the orchestrator sees after retries."""
    text = str(failure)
    if _MARKER in text:
        payload = text.split(_MARKER, 1)[1]
        try:
            data, _ = json.JSONDecoder().raw_decode(payload)
            return StepError(**data)
        except (ValueError, TypeError):
            pass
    return StepError(step, "ActivityFailed", shorten(text), None, False)


def shorten(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
