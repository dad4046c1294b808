"""Settings of the level-triggered loops: the reconcile (drift, repair) and the heartbeat.

The heartbeat probes every active twin's readiness route once a sweep; at 100,000 twins an hourly
sweep is about 28 probes a second, which ``CP_HEARTBEAT_CONCURRENCY`` probes at a time per page
(``CP_HEARTBEAT_PAGE_SIZE`` twins an activity) reach with room to spare (see the README).
"""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field


class ReconcileSettings(BaseModel):
    # Configuration drift (activities.config_drift): how many twins' app settings each reconcile run reads
    # per subscription (one POST each; tags and deploy_refs need no call to ARM per twin).
    drift_settings_per_run: int = Field(
        default=50, ge=0, le=1_000, validation_alias=AliasChoices("CP_DRIFT_SETTINGS_PER_RUN")
    )
    # Two observations of the registry this far apart must agree before a repair acts on them.
    reconcile_grace_seconds: float = Field(
        default=60, ge=0, le=3_600, validation_alias=AliasChoices("CP_RECONCILE_GRACE_SECONDS")
    )
    # A busy row (provisioning, updating, deleting) whose job has no instance this long is a lost job:
    # Durable's status API answers 404 both for no instance and for one not yet started (Learn: "HTTP
    # API reference", get instance status), so only a long silence is taken as "none". 0 judges at once
    # (tests, or a hub known to have no backlog).
    reconcile_lost_job_seconds: float = Field(
        default=1_800, ge=0, le=86_400, validation_alias=AliasChoices("CP_RECONCILE_LOST_JOB_SECONDS")
    )
    # A twin whose last answer is older than this is stale (on /health, and `?stale=true` in the list).
    heartbeat_stale_after_seconds: float = Field(
        default=3 * 3_600, ge=60, le=30 * 86_400, validation_alias=AliasChoices("CP_HEARTBEAT_STALE_AFTER_SECONDS")
    )
    heartbeat_page_size: int = Field(
        default=500, ge=1, le=1_000, validation_alias=AliasChoices("CP_HEARTBEAT_PAGE_SIZE")
    )
    heartbeat_concurrency: int = Field(
        default=32, ge=1, le=256, validation_alias=AliasChoices("CP_HEARTBEAT_CONCURRENCY")
    )
    heartbeat_timeout_seconds: float = Field(
        default=5, gt=0, le=60, validation_alias=AliasChoices("CP_HEARTBEAT_TIMEOUT_SECONDS")
    )
