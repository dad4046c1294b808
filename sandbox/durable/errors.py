"""Errors of the local Durable runtime, named for what the caller should do about them."""

from __future__ import annotations


class DurableSandboxError(Exception):
    """Base class for everything the local Durable runtime raises on purpose."""


class FunctionNotFoundError(DurableSandboxError, LookupError):
    """No orchestrator/activity by that name is registered on the app (the extension answers 400)."""


class InstanceNotFoundError(DurableSandboxError, LookupError):
    """No instance with that id (the extension answers 404)."""


class InstanceAlreadyExistsError(DurableSandboxError):
    """An instance with that id is still Pending or Running (the extension answers 409)."""


class InstanceNotRunningError(DurableSandboxError):
    """The instance already reached a terminal state (the extension answers 410 Gone)."""


class InstanceStillRunningError(DurableSandboxError):
    """Only terminal instances can be purged (the extension answers 412)."""
