"""What an orchestration is given: the twin, the job, and the timing policy — never a secret.

Durable keeps orchestration inputs in its history, so everything here is plain, non-sensitive
data. Timing comes in the input (not from settings read inside the orchestrator) so that replays
see exactly what the first execution saw. The twin's fields are declared once, with its row's
(``controlplane.domain.twin_fields``); the input's JSON keeps the names recorded histories hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from controlplane.domain.twin_fields import TwinFields


@dataclass(frozen=True)
class Policy:
    first_retry_seconds: float
    max_attempts: int
    readiness_timeout_seconds: float
    probe_interval_seconds: float
    teardown_poll_seconds: float
    teardown_timeout_seconds: float
    # Defaulted so that jobs started before the field existed still load from their history.
    publish_timeout_seconds: float = 900.0
    operation_poll_seconds: float = 5.0
    deployment_poll_seconds: float = 5.0


@dataclass(frozen=True, kw_only=True)
class TwinJob(TwinFields):
    """One provisioning or teardown of one twin: the twin's fields (``TwinFields``), then the job's own."""

    subscription_id: str
    policy: Policy
    # For a teardown: the provisioning (or update) job that may still be running and must stop first.
    previous_job_id: str | None = None
    # For an update: the version the twin runs now, and the settings it has, restored if the new ones fail.
    previous_deploy_ref: str | None = None
    previous_app_settings: dict[str, str] | None = None
    # Which lane of the ARM budget its requests book from: "bulk" for a rollout's updates, so that
    # single-twin work never queues behind a whole rollout (controlplane.arm.fleet_budget).
    arm_lane: str = "interactive"
    # The ARM requests booked for the step this input is given to (orchestrators.steps.call_arm_step).
    arm_grant: dict[str, Any] | None = None
    # Where this job's lifecycle events go ("eventgrid", "callback"), decided when it is accepted so
    # that replays see the same; empty when events are off.
    event_sinks: tuple[str, ...] = ()
    # For an update started by POST .../repair: the group's tags are put back too (configuration drift).
    repair: bool = False

    def to_input(self) -> dict[str, Any]:
        """The orchestration input: JSON's own types (a list, not a tuple), as every replay reads it back."""
        return {**asdict(self), "event_sinks": list(self.event_sinks)}

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> TwinJob:
        sinks = tuple(data.get("event_sinks") or ())
        return cls(**{**data, "policy": Policy(**data["policy"]), "event_sinks": sinks})
