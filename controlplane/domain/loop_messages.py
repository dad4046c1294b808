"""What the level-triggered loops (reconcile, heartbeat) and an adoption hand their activities and get back.

Each writes the JSON its dict was before these types existed (same keys), so Durable histories
already recorded replay unchanged. Shapes only an activity reads (a registry observation, a repair's
counts, an adoption's skipped entries) stay JSON objects here: the orchestration carries them on
or reports them, and never looks inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Self

from controlplane.domain.jobs import Policy, TwinJob
from controlplane.domain.json_records import JsonObject, JsonRecord


@dataclass(frozen=True)
class ReconcileInput:
    """``reconcile_fleet``'s input: the pool's subscriptions, the repair's grace, the retry policy."""

    subscriptions: list[str]
    grace_seconds: float
    policy: Policy

    def to_json(self) -> JsonObject:
        return {"subscriptions": self.subscriptions, "grace_seconds": self.grace_seconds, "policy": asdict(self.policy)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(list(data["subscriptions"]), float(data["grace_seconds"]), Policy(**data["policy"]))


@dataclass(frozen=True)
class HeartbeatState:
    """``heartbeat_sweep``'s input, carried through continue-as-new: the counts so far and the next page."""

    policy: Policy
    next: str | None = None
    probed: int = 0
    answered: int = 0
    stale: int = 0
    started: bool = field(default=False, repr=False)  # counts present: an episode after the first

    def to_json(self) -> JsonObject:
        data: JsonObject = {"policy": asdict(self.policy)}
        if self.started:
            data |= {"probed": self.probed, "answered": self.answered, "stale": self.stale, "next": self.next}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            Policy(**data["policy"]), data.get("next"), int(data.get("probed", 0)), int(data.get("answered", 0)),
            int(data.get("stale", 0)), started="probed" in data,
        )  # fmt: skip

    def summary(self) -> HeartbeatSummary:
        return HeartbeatSummary(self.probed, self.answered, self.stale)


@dataclass(frozen=True)
class PageRequest(JsonRecord):
    """A page of the fleet, by key: the one after ``next`` (None: the first)."""

    next: str | None = None


@dataclass(frozen=True)
class LostJobsPage(JsonRecord):
    """``fail_lost_jobs_page``: how many of a page's rows were marked errored (``JobLost``), and the next page."""

    next: str | None = None
    rows: int = 0
    failed: int = 0


@dataclass(frozen=True)
class HeartbeatSummary(JsonRecord):
    """A heartbeat's counts: twins probed, those that answered, those silent past the stale age."""

    probed: int = 0
    answered: int = 0
    stale: int = 0


@dataclass(frozen=True)
class HeartbeatPage(HeartbeatSummary):
    """``heartbeat_page``: one page's counts, and the next page (None: the sweep is done)."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()
    next: str | None = None

    def to_json(self) -> JsonObject:
        return {"next": self.next, "probed": self.probed, "answered": self.answered, "stale": self.stale}


@dataclass(frozen=True)
class SubscriptionRequest(JsonRecord):
    """One subscription of the pool, in an object (a bare string input is parsed as JSON first)."""

    subscription_id: str


@dataclass(frozen=True)
class ReconcileDelay(JsonRecord):
    """``record_reconcile_delay``: a subscription whose lists kept failing, and why."""

    subscription_id: str
    error: str


@dataclass(frozen=True)
class SubscriptionReconciled(JsonRecord):
    """``reconcile_subscription``: what drift it found, and the twins found missing to announce."""

    subscription_id: str
    missing: int = 0
    announce: list[str] = field(default_factory=list)
    returned: int = 0
    orphans: int = 0


@dataclass(frozen=True)
class CloudIds(JsonRecord):
    """``missing_event_jobs``: a page of twins found missing."""

    cloud_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MissingTwin:
    """``missing_event_jobs``: one missing twin's job, with the row's error (an element of its JSON array)."""

    job: TwinJob
    error: JsonObject | None

    def to_json(self) -> JsonObject:
        return self.job.to_input() | {"error": self.error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        job = {key: value for key, value in data.items() if key != "error"}
        return cls(TwinJob.from_input(job), data.get("error"))


@dataclass(frozen=True)
class AdoptionInput:
    """``adopt_brainstems``' input: the subscriptions to scan, the fallback owner, lock or not, dry run or not."""

    subscriptions: list[str]
    dry_run: bool
    policy: Policy
    owner: str | None = None
    lock: bool = False

    def to_json(self) -> JsonObject:
        return {
            "owner": self.owner, "dry_run": self.dry_run, "lock": self.lock, "subscriptions": self.subscriptions,
            "policy": asdict(self.policy),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            list(data["subscriptions"]), bool(data["dry_run"]), Policy(**data["policy"]), data.get("owner"),
            bool(data.get("lock")),
        )  # fmt: skip


@dataclass(frozen=True)
class AdoptionCandidates:
    """``adoption_candidates``: a subscription's twins that could be adopted, and those skipped with why.

    Each entry is a JSON object (names, owner tag, runtime target) the orchestration hands back
    unread to ``adopt_brainstem`` and puts in its report."""

    subscription_id: str
    candidates: list[JsonObject]
    skipped: list[JsonObject]

    def to_json(self) -> JsonObject:
        return {"subscription_id": self.subscription_id, "candidates": self.candidates, "skipped": self.skipped}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data["subscription_id"]), list(data["candidates"]), list(data["skipped"]))


@dataclass(frozen=True)
class AdoptRequest:
    """``adopt_brainstem``: write one candidate's row under the adoption's job id."""

    candidate: JsonObject
    owner: str | None
    job_id: str
    lock: bool

    def to_json(self) -> JsonObject:
        return {"candidate": self.candidate, "owner": self.owner, "job_id": self.job_id, "lock": self.lock}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(dict(data["candidate"]), data.get("owner"), str(data["job_id"]), bool(data.get("lock")))


@dataclass(frozen=True)
class AdoptOutcome:
    """``adopt_brainstem``: the twin's row written (its status, owner, error if not ready), or why it was skipped."""

    cloud_id: str
    skipped: str | None = None
    status: str | None = None
    owner: str | None = None
    error: JsonObject | None = None

    def to_json(self) -> JsonObject:
        if self.skipped is not None:
            return {"cloud_id": self.cloud_id, "skipped": self.skipped}
        return {"cloud_id": self.cloud_id, "status": self.status, "owner": self.owner, "error": self.error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data["cloud_id"]), data.get("skipped"), data.get("status"), data.get("owner"), data.get("error"))
