"""The app imports and indexes its functions the way the Python worker does."""

from __future__ import annotations

from sandbox.rig import app_functions


def test_function_app_loads_and_registers_its_functions() -> None:
    functions = app_functions()  # function_app.app.get_functions(), called once per process
    routes = {
        name: (f.get_trigger().route, [str(m.value) for m in f.get_trigger().methods])
        for name, f in functions.items()
        if f.get_trigger().type == "httpTrigger"
    }
    assert routes == {
        "create_brainstem": ("cp/brainstems", ["POST"]),
        "list_brainstems": ("cp/brainstems", ["GET"]),
        "get_brainstem": ("cp/brainstems/{id}", ["GET"]),
        "delete_brainstem": ("cp/brainstems/{cloud_id}", ["DELETE"]),
        "wake_brainstem": ("cp/brainstems/{cloud_id}/wake", ["POST"]),
        "health": ("cp/health", ["GET"]),
        "openapi": ("cp/openapi.yaml", ["GET"]),
        "patch_brainstem": ("cp/brainstems/{cloud_id}", ["PATCH"]),
        "start_rollout": ("cp/rollouts", ["POST"]),
        "list_rollouts": ("cp/rollouts", ["GET"]),
        "get_rollout": ("cp/rollouts/{rollout_id}", ["GET"]),
        "control_rollout": ("cp/rollouts/{rollout_id}/{action}", ["POST"]),
    }
    kinds = {name: f.get_trigger().type for name, f in functions.items()}
    orchestrations = ("provision_brainstem", "teardown_brainstem", "update_brainstem", "rollout_brainstems")
    assert {kinds[name] for name in orchestrations} == {"orchestrationTrigger"}
    assert {n for n, k in kinds.items() if k == "activityTrigger"} == {
        "ensure_resource_group", "ensure_storage_account", "ensure_function_app", "probe_brainstem", "mark_active",
        "mark_errored", "job_runtime_status", "begin_delete_resource_group", "poll_delete", "resource_group_exists",
        "mark_deleted", "publish_update", "mark_updated", "mark_update_failed", "start_rollout_batch",
        "start_rollback_batch", "collect_rollout_outcomes", "set_rollout_status", "rollout_control",
    }  # fmt: skip


def test_the_registry_is_reconciled_hourly_by_a_timer() -> None:
    trigger = app_functions()["reconcile_registry"].get_trigger()
    assert trigger.type == "timerTrigger" and trigger.schedule == "0 17 * * * *"
