"""The brainstem row: one per twin the control plane has ever provisioned.

Pure data, no Azure imports. ``error`` is a small dict (step, code, message) copied from ARM's
error response for errored rows; it never holds a secret.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from controlplane.domain.errors import InvalidInput
from controlplane.domain.lifecycle import Status

# Owners look like "github:wildfeuer05" or "entra:<oid>". The set excludes what Table Storage keys
# forbid (/ \ # ? and control characters) and the '|' the registry uses as a key separator.
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}")


def validate_owner(owner: object) -> str:
    if not isinstance(owner, str) or not _OWNER.fullmatch(owner):
        raise InvalidInput(
            "owner",
            "owner must be 1-128 characters: letters, digits and . _ : @ + - , starting with a letter or digit "
            "(e.g. github:wildfeuer05)",
        )
    return owner


def timestamp(moment: datetime) -> str:
    """The registry's time format: fixed-width ISO text, so timestamps order as strings do (OData ``lt``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> str:
    return timestamp(datetime.now(UTC))


@dataclass(frozen=True)
class Brainstem:
    cloud_id: str
    name: str
    owner: str
    region: str
    runtime_target: str
    deploy_ref: str
    status: Status
    job_id: str
    created_at: str
    last_seen: str
    url: str | None = None
    subscription_id: str | None = None
    # Code versions: what the twin ran before its last successful update, and (while ``updating``)
    # the version it is being moved to.
    previous_deploy_ref: str | None = None
    target_deploy_ref: str | None = None
    # The twin's own settings: Key Vault references only (controlplane.domain.app_settings).
    app_settings: dict[str, str] | None = None
    # While ``updating``: the settings the update moves it to (its ``app_settings`` until it succeeds).
    target_app_settings: dict[str, str] | None = None
    # Where this twin's lifecycle events are also sent (controlplane.domain.callbacks): caller input, not a secret.
    callback_url: str | None = None
    error: dict[str, Any] | None = field(default=None)
    # A hold pins the twin at its version (controlplane.domain.rollout_gates.Hold as a dict): reason, by, at, until.
    hold: dict[str, Any] | None = None
    # Set while the twin is pending delete: when its grace period ends and the teardown begins. The
    # twin keeps running meanwhile; POST .../restore clears it (controlplane.service.soft_delete).
    delete_at: str | None = None
    # Which of its fields the reconcile last found drifted from the registry (controlplane.domain.config_drift):
    # "app_settings", "deploy_ref", "tags". None: none found. POST .../repair puts them back.
    drift: list[str] | None = None
    # Capacity slots this twin holds (owner quota, subscription-region placement): bookkeeping for
    # the registry, released when the twin is deleted. Not part of the API's view of a row.
    slots: tuple[str, ...] = ()

    def with_changes(self, **changes: Any) -> Brainstem:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["pending_delete"] = self.delete_at is not None
        del data["slots"]
        return data


@dataclass(frozen=True)
class Page:
    """One page of a listing; ``next`` is an opaque token for the following page, or None at the end."""

    items: list[Brainstem]
    next: str | None
