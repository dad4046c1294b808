"""A job's input, built from a twin's row and the settings: what every orchestration is started with.

The domain's ``Policy`` and ``TwinJob`` are plain data; reading the settings into them happens
here, so the domain imports nothing of ours but the domain.
"""

from __future__ import annotations

from controlplane.domain.jobs import Policy, TwinJob
from controlplane.domain.twin import Twin
from controlplane.domain.twin_fields import shared_fields
from controlplane.settings import Settings


def job_policy(settings: Settings) -> Policy:
    return Policy(
        first_retry_seconds=settings.activity_first_retry_seconds,
        max_attempts=settings.activity_max_attempts,
        readiness_timeout_seconds=settings.readiness_timeout_seconds,
        probe_interval_seconds=settings.readiness_probe_interval_seconds,
        teardown_poll_seconds=settings.teardown_poll_interval_seconds,
        teardown_timeout_seconds=settings.teardown_timeout_seconds,
        publish_timeout_seconds=settings.publish_timeout_seconds,
        operation_poll_seconds=settings.operation_poll_seconds,
        deployment_poll_seconds=settings.deployment_poll_seconds,
    )


def job_for(row: Twin, settings: Settings, *, previous_job_id: str | None = None) -> TwinJob:
    """The job input for the row's current job (a pending delete's carries the time the grace ends)."""
    return TwinJob(
        **shared_fields(row),
        subscription_id=row.subscription_id or settings.subscription_id,
        policy=job_policy(settings),
        previous_job_id=previous_job_id,
        event_sinks=event_sinks(row, settings),
    )


def event_sinks(row: Twin, settings: Settings) -> tuple[str, ...]:
    """Where the job's lifecycle events go: the Event Grid topic when configured, the row's callback if any."""
    return (("eventgrid",) if settings.eventgrid_endpoint else ()) + (("callback",) if row.callback_url else ())
