"""Microsoft's Python worker indexes the app, and what it tells the host is what the host can load."""

from __future__ import annotations

import sys

from controlplane.domain.durable_names import Activity, Orchestration
from sandbox.worker import app_worker
from sandbox.worker.metadata import host_errors


def test_the_worker_starts_on_the_python_the_product_targets() -> None:
    worker = app_worker()  # WorkerInitRequest -> FunctionsMetadataRequest -> FunctionLoadRequest each
    metadata = worker.worker_metadata
    assert (metadata.runtime_name, metadata.runtime_version) == ("python", "3.13") == ("python", sys.version[:4])
    # The capabilities the host then relies on to shape HTTP bodies and skip HTTP trigger metadata.
    assert {"RawHttpBodyBytes", "RpcHttpBodyOnly", "RpcHttpTriggerMetadataRemoved"} <= set(worker.capabilities)


def test_every_function_passes_the_hosts_and_the_durable_extensions_checks() -> None:
    functions = list(app_worker().functions.values())
    # 39 + check_names and publish_code (issue 13) + 3 orchestrators (reconcile, heartbeat, adopt), 8 activities, 2 routes
    # and the heartbeat timer (issue 15); 2 bake activities and the 2 hold routes (issue 30);
    # poll_arm_operation and the history purge timer (issue 29); issue 31: the restore, repair and audit
    # routes, the end_grace_period activity; the dashboard's page, its files and the capacity route (issue 32);
    # the function app's step split in three and the loops' paged activities (issue 29)
    assert len(functions) == 72
    assert host_errors(functions) == {}


def test_routes_methods_and_auth_levels_as_the_host_reads_them() -> None:
    http = {
        name: (f.trigger["route"], f.trigger["methods"], f.trigger["authLevel"])
        for name, f in app_worker().functions.items()
        if f.trigger_type == "httpTrigger"
    }
    # ANONYMOUS at the host, as the worker's indexing tells it: the request reaches the app, which
    # authenticates the caller itself (README, Authentication; docs/functions-host.md). At FUNCTION the
    # host would refuse every caller without a function key (tests/security/test_functions_host.py).
    assert http == {
        "create_brainstem": ("cp/brainstems", ["POST"], "ANONYMOUS"),
        "list_brainstems": ("cp/brainstems", ["GET"], "ANONYMOUS"),
        "get_brainstem": ("cp/brainstems/{id}", ["GET"], "ANONYMOUS"),
        "delete_brainstem": ("cp/brainstems/{cloud_id}", ["DELETE"], "ANONYMOUS"),
        "wake_brainstem": ("cp/brainstems/{cloud_id}/wake", ["POST"], "ANONYMOUS"),
        "put_hold": ("cp/brainstems/{cloud_id}/hold", ["PUT"], "ANONYMOUS"),
        "lift_hold": ("cp/brainstems/{cloud_id}/hold", ["DELETE"], "ANONYMOUS"),
        "health": ("cp/health", ["GET"], "ANONYMOUS"),
        "openapi": ("cp/openapi.yaml", ["GET"], "ANONYMOUS"),
        "patch_brainstem": ("cp/brainstems/{cloud_id}", ["PATCH"], "ANONYMOUS"),
        "start_rollout": ("cp/rollouts", ["POST"], "ANONYMOUS"),
        "list_rollouts": ("cp/rollouts", ["GET"], "ANONYMOUS"),
        "get_rollout": ("cp/rollouts/{rollout_id}", ["GET"], "ANONYMOUS"),
        "control_rollout": ("cp/rollouts/{rollout_id}/{action}", ["POST"], "ANONYMOUS"),
        "start_adoption": ("cp/adoptions", ["POST"], "ANONYMOUS"),
        "get_adoption": ("cp/adoptions/{job_id}", ["GET"], "ANONYMOUS"),
        "restore_brainstem": ("cp/brainstems/{cloud_id}/restore", ["POST"], "ANONYMOUS"),
        "list_audit_records": ("cp/audit", ["GET"], "ANONYMOUS"),
        "repair_brainstem": ("cp/brainstems/{cloud_id}/repair", ["POST"], "ANONYMOUS"),
        # The dashboard page and its files hold no data and no rights: a browser loads them with no key.
        "dashboard": ("cp/dashboard", ["GET"], "ANONYMOUS"),
        "dashboard_asset": ("cp/dashboard/{asset}", ["GET"], "ANONYMOUS"),
        "get_fleet_capacity": ("cp/fleet/capacity", ["GET"], "ANONYMOUS"),
    }
    for function in app_worker().functions.values():
        if function.trigger_type == "httpTrigger":
            assert function.bindings_of_type("http") == [{"direction": "OUT", "type": "http", "name": "$return"}]


def test_durable_bindings_are_ones_the_extension_accepts() -> None:
    functions = app_worker().functions
    kinds = {name: f.trigger_type for name, f in functions.items()}
    orchestrators = {f.durable_name for f in functions.values() if f.trigger_type == "orchestrationTrigger"}
    assert orchestrators == {
        "provision_brainstem", "teardown_brainstem", "update_brainstem", "rollout_brainstems",
        "reconcile_fleet", "heartbeat_sweep", "adopt_brainstems",
    }  # fmt: skip
    assert {n for n, k in kinds.items() if k == "activityTrigger"} == {
        "ensure_resource_group", "ensure_storage_account", "ensure_function_plan", "probe_brainstem", "mark_active",
        "mark_errored", "job_runtime_status", "begin_delete_resource_group", "poll_delete", "resource_group_exists",
        "mark_deleted", "publish_update", "mark_updated", "mark_update_failed", "start_rollout_batch",
        "start_rollback_batch", "collect_rollout_outcomes", "set_rollout_status", "rollout_control",
        "reserve_arm_writes", "publish_event", "record_undelivered_event", "check_names", "publish_code",
        "reconcile_subscription", "record_reconcile_delay", "observe_registry", "repair_registry", "heartbeat_page",
        "save_heartbeat", "adoption_candidates", "adopt_brainstem", "probe_baking_wave", "judge_rollout_error_rate",
        "poll_arm_operation", "end_grace_period", "begin_function_site", "finish_function_app",
        "missing_event_jobs", "fail_lost_jobs_page",
    }  # fmt: skip
    # Every name the code schedules or starts by (controlplane.domain.durable_names) is one the worker indexed,
    # and every indexed one is named there: a misspelt or forgotten name fails here, not when its step runs.
    assert orchestrators == {str(name) for name in Orchestration}
    assert {n for n, k in kinds.items() if k == "activityTrigger"} == {str(name) for name in Activity}
    clients = {name for name, f in functions.items() if f.bindings_of_type("durableClient")}
    # The durable client is an input binding beside an HTTP trigger (starters, status) or an activity trigger.
    assert clients == {
        "create_brainstem", "get_brainstem", "delete_brainstem", "job_runtime_status", "patch_brainstem",
        "start_rollout", "list_rollouts", "get_rollout", "control_rollout", "start_rollout_batch",
        "start_rollback_batch", "collect_rollout_outcomes", "start_adoption", "get_adoption",
        "reconcile_registry", "heartbeat", "purge_history", "restore_brainstem", "repair_brainstem",
        "fail_lost_jobs_page",
    }  # fmt: skip
    for name in clients:
        assert [b["direction"] for b in functions[name].bindings_of_type("durableClient")] == ["IN"]
        assert kinds[name] in {"httpTrigger", "activityTrigger", "timerTrigger"}
    for name in orchestrators:
        assert [b["type"] for b in functions[name].bindings] == ["orchestrationTrigger"]


def test_the_registry_is_reconciled_and_the_fleet_heard_hourly_by_timers() -> None:
    trigger = app_worker().functions["reconcile_registry"].trigger
    assert (trigger["type"], trigger["schedule"], trigger["runOnStartup"]) == ("timerTrigger", "0 17 * * * *", False)
    trigger = app_worker().functions["heartbeat"].trigger
    assert (trigger["type"], trigger["schedule"], trigger["runOnStartup"]) == ("timerTrigger", "0 47 * * * *", False)
