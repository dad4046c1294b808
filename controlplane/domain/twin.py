"""The brainstem row: one per twin the control plane has ever provisioned.

Its fields shared with the twin's jobs are declared in ``controlplane.domain.twin_fields``.

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
from controlplane.domain.twin_fields import Stored, TwinFields, names_where, role

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


@dataclass(frozen=True, kw_only=True)
class Twin(TwinFields):
    """The row: the fields a twin shares with its jobs (``TwinFields``), then what only the registry records.

    Each field's ``role`` says how the registry stores it, whether the API shows it and whether events
    carry it (``controlplane.domain.twin_fields``); a field added here reaches all three from here.
    """

    status: Status = field(metadata=role(in_events=True))
    created_at: str
    last_seen: str
    url: str | None = field(default=None, metadata=role(in_events=True))
    subscription_id: str | None = None
    # Code versions: what the twin ran before its last successful update, and (while ``updating``)
    # the version it is being moved to.
    previous_deploy_ref: str | None = None
    target_deploy_ref: str | None = None
    # While ``updating``: the settings the update moves it to (its ``app_settings`` until it succeeds).
    target_app_settings: dict[str, str] | None = field(default=None, metadata=role(stored=Stored.AS_JSON))
    error: dict[str, Any] | None = field(default=None, metadata=role(stored=Stored.AS_JSON))
    # A hold pins the twin at its version (controlplane.domain.rollout_gates.Hold as a dict): reason, by, at, until.
    hold: dict[str, Any] | None = field(default=None, metadata=role(stored=Stored.AS_JSON))
    # Which of its fields the reconcile last found drifted from the registry (controlplane.domain.config_drift):
    # "app_settings", "deploy_ref", "tags". None: none found. POST .../repair puts them back.
    drift: list[str] | None = field(default=None, metadata=role(stored=Stored.AS_JSON))
    # Capacity slots this twin holds (owner quota, subscription-region placement): bookkeeping for
    # the registry, released when the twin is deleted. Not part of the API's view of a row.
    slots: tuple[str, ...] = field(default=(), metadata=role(stored=Stored.AS_JSON, public=False))

    def with_changes(self, **changes: Any) -> Twin:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The API's view of the row (openapi.yaml's ``Brainstem``): its public fields, and whether it is pending delete."""
        data = {name: value for name, value in asdict(self).items() if name in API_FIELDS}
        data["status"] = self.status.value
        data["pending_delete"] = self.delete_at is not None
        return data


# The API's view of a row, and what a lifecycle event's data holds of it (never subscription ids,
# slots or anything secret): read from the fields' roles.
API_FIELDS = names_where(Twin, public=True)
EVENT_FIELDS = names_where(Twin, in_events=True)


@dataclass(frozen=True)
class Page:
    """One page of a listing; ``next`` is an opaque token for the following page, or None at the end."""

    items: list[Twin]
    next: str | None
