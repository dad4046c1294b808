"""The problems an API operation can end in, each with its HTTP status and what the caller does next."""

from __future__ import annotations

from controlplane.domain.errors import ControlPlaneError


class NameTaken(ControlPlaneError):
    status = 409
    type = "already-exists"
    title = "Brainstem already exists"


class QuotaExceeded(ControlPlaneError):
    status = 429
    type = "quota-exceeded"
    title = "Quota exceeded"


class PoolExhausted(ControlPlaneError):
    status = 503
    type = "capacity-exhausted"
    title = "No subscription has room"


class NotActive(ControlPlaneError):
    status = 409
    type = "not-active"
    title = "Brainstem not active"


class JobNotFound(ControlPlaneError):
    status = 404
    type = "not-found"
    title = "Not found"


class Gone(ControlPlaneError):
    status = 410
    type = "gone"
    title = "Gone"


class DependencyUnavailable(ControlPlaneError):
    status = 503
    type = "dependency-unavailable"
    title = "Dependency unavailable"


class TwinHeld(ControlPlaneError):
    """The twin is held at its version: no update until the hold is lifted (DELETE …/hold) or expires."""

    status = 409
    type = "held"
    title = "Brainstem held"
