"""The name of every Durable function: each orchestration and each activity, written once.

An orchestration schedules an activity (or the service starts an orchestration) by name, and the
Durable extension finds the function registered under that name; a misspelt name fails only when the
step runs. So the names live here, where the service, the orchestrators, the activities'
registration and the tests all read them, and ``tests/test_function_app.py`` checks that exactly
these are what the worker indexes. A member is a ``str``: it goes into Durable's JSON as the bare
name, as the string literals did, so histories already recorded replay unchanged.

An activity's name is its Python function's name (the Durable Python SDK registers a function under
its own name), hence the values here equal the function names in ``activities/``.
"""

from __future__ import annotations

from enum import StrEnum


class Orchestration(StrEnum):
    PROVISION = "provision_brainstem"
    UPDATE = "update_brainstem"
    TEARDOWN = "teardown_brainstem"
    ROLLOUT = "rollout_brainstems"
    RECONCILE = "reconcile_fleet"
    HEARTBEAT = "heartbeat_sweep"
    ADOPT = "adopt_brainstems"


class Activity(StrEnum):
    # Building a twin (activities/provisioning.py, code.py)
    CHECK_NAMES = "check_names"
    ENSURE_RESOURCE_GROUP = "ensure_resource_group"
    ENSURE_STORAGE_ACCOUNT = "ensure_storage_account"
    ENSURE_FUNCTION_PLAN = "ensure_function_plan"
    BEGIN_FUNCTION_SITE = "begin_function_site"
    FINISH_FUNCTION_APP = "finish_function_app"
    POLL_ARM_OPERATION = "poll_arm_operation"
    PUBLISH_CODE = "publish_code"
    PROBE_BRAINSTEM = "probe_brainstem"
    MARK_ACTIVE = "mark_active"
    MARK_ERRORED = "mark_errored"
    # Updating one (activities/updating.py)
    PUBLISH_UPDATE = "publish_update"
    MARK_UPDATED = "mark_updated"
    MARK_UPDATE_FAILED = "mark_update_failed"
    # Taking one down (activities/teardown.py)
    END_GRACE_PERIOD = "end_grace_period"
    JOB_RUNTIME_STATUS = "job_runtime_status"
    BEGIN_DELETE_RESOURCE_GROUP = "begin_delete_resource_group"
    POLL_DELETE = "poll_delete"
    RESOURCE_GROUP_EXISTS = "resource_group_exists"
    MARK_DELETED = "mark_deleted"
    # The fleet-wide ARM budget (activities/budget.py) and lifecycle events (activities/events.py)
    RESERVE_ARM_WRITES = "reserve_arm_writes"
    PUBLISH_EVENT = "publish_event"
    RECORD_UNDELIVERED_EVENT = "record_undelivered_event"
    # The level-triggered loops (activities/reconcile.py)
    FAIL_LOST_JOBS_PAGE = "fail_lost_jobs_page"
    OBSERVE_REGISTRY = "observe_registry"
    RECONCILE_SUBSCRIPTION = "reconcile_subscription"
    RECORD_RECONCILE_DELAY = "record_reconcile_delay"
    MISSING_EVENT_JOBS = "missing_event_jobs"
    REPAIR_REGISTRY = "repair_registry"
    HEARTBEAT_PAGE = "heartbeat_page"
    SAVE_HEARTBEAT = "save_heartbeat"
    # Adoption (activities/adoption.py)
    ADOPTION_CANDIDATES = "adoption_candidates"
    ADOPT_BRAINSTEM = "adopt_brainstem"
    # Rollouts (activities/rollouts.py)
    START_ROLLOUT_BATCH = "start_rollout_batch"
    START_ROLLBACK_BATCH = "start_rollback_batch"
    COLLECT_ROLLOUT_OUTCOMES = "collect_rollout_outcomes"
    SET_ROLLOUT_STATUS = "set_rollout_status"
    ROLLOUT_CONTROL = "rollout_control"
    PROBE_BAKING_WAVE = "probe_baking_wave"
    JUDGE_ROLLOUT_ERROR_RATE = "judge_rollout_error_rate"
