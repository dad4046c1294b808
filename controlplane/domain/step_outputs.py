"""The outputs of a twin's steps: what each activity tells its orchestrator when the step ran.

Each is the step's success in ``controlplane.domain.step_results`` (beside ``Fenced`` and
``StepErrored``), with the JSON the activity returned as a dict before these types existed, so
recorded histories replay unchanged. Never a secret: Durable keeps every output in its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from controlplane.domain.json_records import JsonObject, JsonRecord


@dataclass(frozen=True)
class NamesChecked(JsonRecord):
    """``check_names``: the site and storage names are free in all of Azure."""

    available: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GroupEnsured(JsonRecord):
    """``ensure_resource_group``: the group's id and its delete lock's."""

    id: str = ""
    lock: str = ""


@dataclass(frozen=True)
class OperationBegun(JsonRecord):
    """A create or delete sent to ARM: the operation URL to poll on durable timers (None: ARM answered done)."""

    operation_url: str | None = None


@dataclass(frozen=True)
class Begun(OperationBegun):
    """A site PUT sent: the operation to poll and the names (never the values) of the settings it set."""

    settings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Built(JsonRecord):
    """``finish_function_app``: the made app's host and settings names; no secret, no setting value."""

    host: str = ""
    settings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OperationState(JsonRecord):
    """One GET of an ARM operation: done or not, and ARM's code and message when it failed."""

    done: bool = False
    failed: bool = False
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Following(JsonRecord):
    """What has been seen of a deployment so far: small, so it travels in the orchestration between polls.

    ``answered``: the status URL has answered once (a 404 then means the worker recycled after
    finishing); ``not_found``: early 404s so far, while the deployment comes alive; ``last_status``:
    the last status seen (what a recycled worker's deployment is taken to have ended on, as azd does)."""

    deployment_id: str
    answered: bool = False
    not_found: int = 0
    last_status: int | None = None

    def to_dict(self) -> JsonObject:
        return self.to_json()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        last = data.get("last_status")
        return cls(
            deployment_id=str(data["deployment_id"]), answered=bool(data.get("answered")),
            not_found=int(data.get("not_found") or 0), last_status=None if last is None else int(last),
        )  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls.from_dict(data)

    @classmethod
    def read(cls, data: Mapping[str, Any] | None) -> Self | None:
        """The deployment a message carries (its ``following`` key), or None when it carries none."""
        return None if data is None else cls.from_dict(data)


def with_following(data: JsonObject, following: Following | None) -> JsonObject:
    """``data`` with the deployment followed under ``following``, when there is one (left out otherwise)."""
    return data if following is None else {**data, "following": following.to_json()}


@dataclass(frozen=True)
class PublishOutcome(JsonRecord):
    """``publish_code``: done, still deploying (ask again with ``following``, after ``poll_after_seconds``
    when the scm site asked for that), or wait ``wait_seconds`` and start again."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset(
        {"deployment_id", "package_sha256", "wait_seconds", "reason", "following", "poll_after_seconds"}
    )

    done: bool
    deploy_ref: str
    deployment_id: str | None = None
    package_sha256: str | None = None
    wait_seconds: float | None = None
    reason: str | None = None
    following: Following | None = None
    poll_after_seconds: float | None = None

    def to_json(self) -> JsonObject:
        data = super().to_json()
        if self.following is not None:  # in place: the key keeps its place, as the dict had it
            data["following"] = self.following.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            done=bool(data.get("done")), deploy_ref=str(data.get("deploy_ref", "")),
            deployment_id=data.get("deployment_id"), package_sha256=data.get("package_sha256"),
            wait_seconds=data.get("wait_seconds"), reason=data.get("reason"),
            following=Following.read(data.get("following")),
            poll_after_seconds=data.get("poll_after_seconds"),
        )  # fmt: skip


@dataclass(frozen=True)
class Probe(JsonRecord):
    """``probe_brainstem``: one GET of the twin's readiness route. ``status`` None: no answer (``reason``)."""

    ready: bool = False
    status: int | None = None
    reason: str | None = None
    deploy_ref: str | None = None  # the deploy_ref the twin says it runs, when it says

    def to_json(self) -> JsonObject:
        data: JsonObject = {"ready": self.ready, "status": self.status}
        if self.status is None:
            data["reason"] = self.reason
        if self.deploy_ref is not None:
            data["deploy_ref"] = self.deploy_ref
        return data


@dataclass(frozen=True)
class Activated(JsonRecord):
    """``mark_active``/``mark_updated``: the twin is active at ``url`` (an update: on ``deploy_ref``)."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset({"deploy_ref"})

    url: str | None = None
    deploy_ref: str | None = None


@dataclass(frozen=True)
class Recorded(JsonRecord):
    """An outcome written to the registry (an errored row, a failed update, an undelivered event)."""

    recorded: bool = True


@dataclass(frozen=True)
class GraceEnded(JsonRecord):
    """``end_grace_period``: the pending row moved to deleting."""

    deleting: str = ""


@dataclass(frozen=True)
class GroupExists(JsonRecord):
    """``resource_group_exists``: whether the twin's group is still there."""

    exists: bool = False


@dataclass(frozen=True)
class Deleted(JsonRecord):
    """``mark_deleted``: the row records the twin as deleted."""

    deleted: str = ""


@dataclass(frozen=True)
class JobRuntimeStatus(JsonRecord):
    """``job_runtime_status``: another job's Durable runtime status, "NotFound" when there is none.

    The activity returns the bare status string (its wire since it was written); the orchestrator
    reads it as ``{"value": status}`` (``orchestrators.steps.call_step``)."""

    value: str = "NotFound"
