"""What an orchestrator hands an activity beside (or instead of) the job, and the budget's and events' answers.

A step that needs only the twin takes the job itself (``TwinJob.to_input()``); the ones here
take the job beside other fields (``{"job": ..., ...}``), or no job at all. Each writes the JSON the
orchestrators wrote as dicts before these types existed (same keys, same order, a key left out
where it was left out), so Durable histories already recorded replay unchanged and an activity
scheduled by the code before this one reads its input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from controlplane.domain.events import LifecycleEvent
from controlplane.domain.jobs import TwinJob
from controlplane.domain.json_records import JsonObject, JsonRecord
from controlplane.domain.step_errors import StepError
from controlplane.domain.step_outputs import Following, with_following

# The row status a step runs under, by the name a request's ``fence`` carries (activities.steps).
PROVISIONING_FENCE, UPDATING_FENCE = "provisioning", "updating"


@dataclass(frozen=True)
class OperationPoll:
    """``poll_arm_operation``/``poll_delete``: one GET of ``operation_url`` under the job's fence.

    ``step``: what a failure is reported as (a delete's poll names none); ``fence``: the row status
    the job must still own, left out for a create's (provisioning)."""

    job: TwinJob
    operation_url: str
    step: str | None = None
    fence: str | None = None

    def to_json(self) -> JsonObject:
        data: JsonObject = {"job": self.job.to_input(), "operation_url": self.operation_url}
        if self.step is not None:
            data["step"] = self.step
        if self.fence is not None:
            data["fence"] = self.fence
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(TwinJob.from_input(data["job"]), str(data["operation_url"]), data.get("step"), data.get("fence"))


@dataclass(frozen=True)
class FinishApp:
    """``finish_function_app``: under ``fence``; a failure reported as ``step`` (None: ``function_app``)."""

    job: TwinJob
    fence: str
    step: str | None = None

    def to_json(self) -> JsonObject:
        data: JsonObject = {"job": self.job.to_input(), "fence": self.fence}
        if self.step is not None:
            data["step"] = self.step
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(TwinJob.from_input(data["job"]), str(data.get("fence") or PROVISIONING_FENCE), data.get("step"))


@dataclass(frozen=True)
class PublishRequest:
    """``publish_code``: start publishing (``following`` None), or ask once how that deployment goes."""

    job: TwinJob
    fence: str
    following: Following | None = None

    def to_json(self) -> JsonObject:
        deployment_id = None if self.following is None else self.following.deployment_id
        data: JsonObject = {"job": self.job.to_input(), "deployment_id": deployment_id, "fence": self.fence}
        return with_following(data, self.following)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        fence = str(data.get("fence") or PROVISIONING_FENCE)
        return cls(TwinJob.from_input(data["job"]), fence, Following.read(data.get("following")))


@dataclass(frozen=True)
class ErrorRecord:
    """``mark_errored``/``mark_update_failed``: the failed step to record on the row.

    ``rolled_back`` (an update's only): the twin runs its previous code again."""

    job: TwinJob
    error: StepError
    rolled_back: bool | None = None

    def to_json(self) -> JsonObject:
        data: JsonObject = {"job": self.job.to_input(), "error": self.error.to_dict()}
        if self.rolled_back is not None:
            data["rolled_back"] = self.rolled_back
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        rolled_back = data.get("rolled_back")
        return cls(
            TwinJob.from_input(data["job"]), StepError(**data["error"]),
            None if rolled_back is None else bool(rolled_back),
        )  # fmt: skip


@dataclass(frozen=True)
class JobStatusQuery(JsonRecord):
    """``job_runtime_status``: the job id in an object (a bare string input is parsed as JSON first)."""

    job_id: str


@dataclass(frozen=True)
class BookingRequest(JsonRecord):
    """``reserve_arm_writes``: book ``count`` ARM requests in ``lane`` of the subscription's budget."""

    subscription_id: str
    lane: str
    count: int


@dataclass(frozen=True)
class Booking(JsonRecord):
    """``reserve_arm_writes``' answer: ``retry_at`` (nothing booked: ask again then), or a ``grant`` usable
    from ``not_before`` (None: now), or neither (no fleet budget: the clients pay as they go).

    ``grant`` is opaque to the orchestrator: it travels in the job (``TwinJob.arm_grant``) to the
    step, whose clients spend it (controlplane.arm.write_budget)."""

    retry_at: str | None = None
    not_before: str | None = None
    grant: dict[str, Any] | None = None

    def to_json(self) -> JsonObject:
        if self.retry_at is not None:
            return {"retry_at": self.retry_at}
        if self.grant is None:
            return {}
        return {"not_before": self.not_before, "grant": self.grant}


@dataclass(frozen=True)
class EventDelivery:
    """``publish_event``: one event to one sink (the callback's URL only for the callback sink)."""

    sink: str
    event: LifecycleEvent
    callback_url: str | None = None

    def to_json(self) -> JsonObject:
        return {"sink": self.sink, "event": self.event.to_input(), "callback_url": self.callback_url}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data["sink"]), LifecycleEvent.from_input(data["event"]), data.get("callback_url"))


@dataclass(frozen=True)
class Delivered(JsonRecord):
    """``publish_event``'s answer: delivered, skipped (the sink is gone), or refused for good (``reason``)."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset({"skipped", "reason", "id"})

    delivered: bool
    skipped: bool | None = None
    reason: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class UndeliveredEvent(JsonRecord):
    """``record_undelivered_event``: an event no retry delivered, kept for the operator."""

    cloud_id: str
    event_id: str
    type: str
    sink: str
    reason: str
