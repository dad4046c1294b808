"""Lifecycle events: what the next system hears when a brainstem changes state.

Each transition of a brainstem's life is told once as a CloudEvents 1.0 event (JSON format):

    specversion  "1.0"
    id           <job_id>.<transition>   the same on every retry and replay, so a consumer drops duplicates
    source       the control plane (CP_EVENT_SOURCE)
    type         dev.twinstack.brainstem.<transition>
    subject      the cloud_id
    time         when the orchestration reached the transition (its replay-safe clock)
    data         the row's public fields (PUBLIC_FIELDS); never a secret

CloudEvents 1.0: https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md (required id,
source, specversion, type; optional subject, time, datacontenttype; "Consumers MAY assume that
Events with identical source and id are duplicates") and its JSON format
(https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md). Event Grid
accepts exactly this shape (Learn: azure/event-grid/cloud-event-schema).

Pure: no I/O, no clock. The orchestrator builds the event (deterministic), an activity sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from controlplane.domain.twin import EVENT_FIELDS

SPEC_VERSION = "1.0"
TYPE_PREFIX = "dev.twinstack.brainstem."
DATA_CONTENT_TYPE = "application/json"


class Transition(str, Enum):
    """The moments of a brainstem's life another system may care about. Adding one is one line."""

    ACCEPTED = "accepted"  # POST accepted: the row is provisioning, its job started
    ACTIVE = "active"  # the brainstem answers at its url
    ERRORED = "errored"  # a step failed for good (data.error says which and why)
    DELETING = "deleting"  # a teardown began
    DELETED = "deleted"  # its resource group is gone; the row stays as history
    UPDATED = "updated"  # its code or settings changed (a later issue)
    MISSING = "missing"  # its resources vanished outside the control plane (the reconcile noticed)
    STALE = "stale"  # it stopped answering its heartbeat (a later issue)

    @property
    def event_type(self) -> str:
        return TYPE_PREFIX + self.value


# The row's status once each transition has happened (the later transitions name theirs when they land).
STATUS_AFTER = {
    Transition.ACCEPTED: "provisioning",
    Transition.ACTIVE: "active",
    Transition.ERRORED: "errored",
    Transition.DELETING: "deleting",
    Transition.DELETED: "deleted",
    Transition.UPDATED: "active",
    Transition.MISSING: "missing",
}

# What a consumer receives about the row: the fields marked ``in_events`` (controlplane.domain.twin_fields).
# Never subscription ids, slots or anything secret.
PUBLIC_FIELDS = EVENT_FIELDS


def event_id(job_id: str, transition: Transition) -> str:
    """One id per job and transition: a retried or replayed publish repeats it, a new job never does."""
    return f"{job_id}.{transition.value}"


@dataclass(frozen=True)
class LifecycleEvent:
    transition: Transition
    cloud_id: str
    time: str  # RFC 3339, UTC
    data: dict[str, Any]

    @classmethod
    def from_row(
        cls, transition: Transition, row: dict[str, Any], *, time: str, error: dict[str, Any] | None = None
    ) -> LifecycleEvent:
        """The event for ``row`` (a mapping with at least PUBLIC_FIELDS' keys that it has)."""
        data = {name: row.get(name) for name in PUBLIC_FIELDS}
        if error is not None:
            data["error"] = {key: error.get(key) for key in ("step", "code", "message")}
        return cls(transition, row["cloud_id"], time, data)

    @property
    def id(self) -> str:
        return event_id(str(self.data["job_id"]), self.transition)

    def to_cloudevent(self, source: str) -> dict[str, Any]:
        """The event in the CloudEvents JSON format (structured mode)."""
        return {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": source,
            "type": self.transition.event_type,
            "subject": self.cloud_id,
            "time": self.time,
            "datacontenttype": DATA_CONTENT_TYPE,
            "data": self.data,
        }

    def to_input(self) -> dict[str, Any]:
        return {"transition": self.transition.value, "cloud_id": self.cloud_id, "time": self.time, "data": self.data}

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> LifecycleEvent:
        return cls(Transition(data["transition"]), data["cloud_id"], data["time"], dict(data["data"]))
