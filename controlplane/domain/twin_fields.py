"""A twin's fields, declared once: what its registry row and every job that works on it share.

``TwinFields`` is the base of both the row (``controlplane.domain.twin.Brainstem``) and the job an
orchestration is given (``controlplane.domain.jobs.TwinJob``), so a field both carry is written
here and nowhere else; ``controlplane.workflows.job_inputs`` copies these from the row into the job.

Each of the row's fields says in its metadata (``role``) what the other places do with it, so none of
them keeps a list of names of its own:

- ``stored``: how the registry keeps it in Table Storage (``controlplane.registry.entities``): as a
  property of its own type, or as JSON text (dicts, lists and tuples, which Table Storage cannot hold).
- ``public``: whether the API's view of the row (``Twin.to_dict``, openapi.yaml's ``Brainstem``)
  shows it. tests/contract/test_twin_fields.py holds that schema to these names.
- ``in_events``: whether a lifecycle event's data carries it (``controlplane.domain.events``,
  openapi.yaml's ``LifecycleEvent``).

A field with no metadata is stored as itself, public, and not in events. docs/twin-fields.md says how
to add one. The job's JSON (Durable's history) and the API's view keep their names and values; their
keys follow the declaration order (these shared fields first), which no reader depends on: JSON objects
are unordered and ``TwinJob.from_input`` reads by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

_ROLE = "twin_field_role"


class Stored(Enum):
    AS_IS = "as_is"  # a Table Storage property of the value's own type (text, here)
    AS_JSON = "as_json"  # JSON text: small dicts and lists, never a secret


@dataclass(frozen=True)
class Role:
    stored: Stored = Stored.AS_IS
    public: bool = True
    in_events: bool = False


def role(*, stored: Stored = Stored.AS_IS, public: bool = True, in_events: bool = False) -> Mapping[str, Role]:
    """A field's metadata: ``field(metadata=role(...))``."""
    return {_ROLE: Role(stored, public, in_events)}


def names_where(
    cls: type[Any], *, stored: Stored | None = None, public: bool | None = None, in_events: bool | None = None
) -> tuple[str, ...]:
    """The names of ``cls``' fields, in declaration order, whose role matches every mark given."""
    wanted = {"stored": stored, "public": public, "in_events": in_events}
    return tuple(
        name
        for name, each in _roles(cls).items()
        if all(getattr(each, mark) == value for mark, value in wanted.items() if value is not None)
    )


def _roles(cls: type[Any]) -> dict[str, Role]:
    return {each.name: each.metadata.get(_ROLE, Role()) for each in fields(cls)}


@dataclass(frozen=True, kw_only=True)
class TwinFields:
    """What a twin is, as its row records it and as each job that provisions, updates or tears it down
    carries it (for an update: the version and settings it moves the twin to)."""

    cloud_id: str = field(metadata=role(in_events=True))
    name: str = field(metadata=role(in_events=True))
    owner: str = field(metadata=role(in_events=True))
    region: str = field(metadata=role(in_events=True))
    runtime_target: str = field(metadata=role(in_events=True))
    deploy_ref: str = field(metadata=role(in_events=True))
    # The job working on the twin now (the row) or this job (the job).
    job_id: str = field(metadata=role(in_events=True))
    # The twin's own settings: Key Vault references only (controlplane.domain.app_settings).
    app_settings: dict[str, str] | None = field(default=None, metadata=role(stored=Stored.AS_JSON))
    # Where this twin's lifecycle events are also sent (controlplane.domain.callbacks): caller input, not a secret.
    callback_url: str | None = None
    # Set while the twin is pending delete: when its grace period ends and the teardown begins
    # (CP_DELETE_GRACE_SECONDS). The twin keeps running meanwhile; POST .../restore clears it
    # (controlplane.service.soft_delete).
    delete_at: str | None = None


def shared_fields(twin: TwinFields) -> dict[str, Any]:
    """The values of ``twin``'s shared fields, to build the other shape from (a row's job, say)."""
    return {each.name: getattr(twin, each.name) for each in fields(TwinFields)}
