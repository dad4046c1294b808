"""The control plane's exceptions: each says what went wrong and what to do next.

Every error carries a stable ``type`` slug and an HTTP status so that the HTTP layer maps them in
one place (problem+json), orchestrations can tell a permanent failure from a transient one, and no
caller ever has to parse a message.
"""

from __future__ import annotations


class ControlPlaneError(Exception):
    """Base class. ``status`` is the HTTP status it maps to; ``type`` names the problem type."""

    status = 500
    type = "internal-error"
    title = "Internal error"
    # True on a "not found" that hides another owner's resource: answered 404, audited as a refusal.
    another_owner = False

    def __init__(self, detail: str, **extensions: object) -> None:
        super().__init__(detail)
        self.detail = detail
        # Extra members of the problem document (e.g. the field in error); never secrets.
        self.extensions = {k: v for k, v in extensions.items() if v is not None}


class InvalidInput(ControlPlaneError):
    status = 400
    type = "invalid-input"
    title = "Invalid input"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, field=field)
        self.field = field


class TwinNotFound(ControlPlaneError):
    status = 404
    type = "not-found"
    title = "Not found"


class TwinExists(ControlPlaneError):
    status = 409
    type = "already-exists"
    title = "Brainstem already exists"


class IllegalTransition(ControlPlaneError):
    """A status change the lifecycle forbids (e.g. deleted -> active)."""

    status = 409
    type = "illegal-transition"
    title = "Illegal status transition"


class ConcurrentUpdate(ControlPlaneError):
    """Another writer changed the row first and retrying did not settle it."""

    status = 409
    type = "concurrent-update"
    title = "Concurrent update"


class SettingsError(ControlPlaneError):
    """An app setting is missing or invalid. Names the setting, never echoes its value."""

    status = 503
    type = "misconfigured"
    title = "Control plane misconfigured"


class SlotFull(ControlPlaneError):
    """A capacity slot (an owner's quota, a subscription-region) has no room left."""

    status = 409
    type = "capacity-full"
    title = "No capacity left"

    def __init__(self, key: str, limit: int, used: int) -> None:
        super().__init__(f"{key} holds {used} of at most {limit}", limit=limit, count=used)
        self.key, self.limit, self.used = key, limit, used


class RolloutNotRunning(ControlPlaneError):
    """A control (pause, resume, abort) for a rollout that has ended, or whose orchestration is gone."""

    status = 409
    type = "rollout-not-running"
    title = "Rollout is not running"


class DependencyUnavailable(ControlPlaneError):
    """A store or runtime we depend on (Table Storage, the Durable extension) did not answer: retry later."""

    status = 503
    type = "dependency-unavailable"
    title = "Dependency unavailable"
