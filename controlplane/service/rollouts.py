"""Accepting and steering rollouts (operators only): plan, start, read, list, pause, resume, abort, approve."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import azure.durable_functions as df

from controlplane.auth import Principal, require_operator
from controlplane.domain.app_settings import validate_app_settings
from controlplane.domain.durable_names import Orchestration
from controlplane.domain.errors import InvalidInput, RolloutNotRunning
from controlplane.domain.rollout_gates import WAVE_GATE_FIELDS, RolloutGates
from controlplane.domain.rollouts import TERMINAL, RolloutSpec, RolloutStatus, Selector, WavePlan
from controlplane.registry import TwinRegistry
from controlplane.registry.rollouts import RolloutNotFound
from controlplane.service import rollout_plan
from controlplane.service.updates import validate_deploy_ref
from controlplane.settings import Settings
from controlplane.workflows import durable_calls
from controlplane.workflows.job_inputs import job_policy

ROLLOUT = Orchestration.ROLLOUT
CONTROL_EVENT = "control"
_CONTROLS = {"pause": "pause", "resume": "run", "abort": "abort", "approve": "approve"}
__all__ = ["RolloutNotFound", "control", "get", "list_rollouts", "start"]


def _operator(principal: Principal) -> None:
    require_operator(principal, "steering rollouts")


def parse_spec(body: dict[str, Any]) -> RolloutSpec:
    unknown = sorted(set(body) - {"deploy_ref", "app_settings", "selector", "waves", "gates", "window", "dry_run"})
    if unknown:
        raise InvalidInput(
            unknown[0],
            f"unknown field '{unknown[0]}'; a rollout takes deploy_ref, app_settings, selector, waves, gates, "
            "window, dry_run",
        )
    waves = body.get("waves")
    # The bake and approval fields sit in "waves" for the caller; the plan of wave sizes takes the rest.
    wave_gates = {k: waves[k] for k in WAVE_GATE_FIELDS if k in waves} if isinstance(waves, dict) else {}
    if isinstance(waves, dict):
        waves = {k: v for k, v in waves.items() if k not in WAVE_GATE_FIELDS}
    if "deploy_ref" not in body and "app_settings" not in body:
        raise InvalidInput("deploy_ref", "give deploy_ref (the version to move to), app_settings, or both")
    return RolloutSpec(
        rollout_id=uuid.uuid4().hex,
        deploy_ref=validate_deploy_ref(body["deploy_ref"]) if "deploy_ref" in body else None,
        selector=Selector.parse(body["selector"]) if "selector" in body else Selector(),
        waves=WavePlan.parse(waves) if "waves" in body else WavePlan(),
        app_settings=validate_app_settings(body["app_settings"]) if "app_settings" in body else None,
        gates=RolloutGates.parse(wave_gates, body.get("gates"), body.get("window")),
    )


def initial_state(spec: RolloutSpec, settings: Settings) -> dict[str, Any]:
    """The rollout orchestration's first input: the plan, the timing policy, and where it stands."""
    return {
        "spec": spec.to_dict(), "policy": job_policy(settings).__dict__, "wave": 0, "taken": 0,
        "poll_seconds": settings.rollout_poll_seconds,
    }  # fmt: skip


async def start(
    principal: Principal, body: dict[str, Any], registry: TwinRegistry,
    client: df.DurableOrchestrationClient, settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    _operator(principal)
    spec = parse_spec(body)
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run", "dry_run is true (answer the plan, start nothing) or false")
    if dry_run:
        return await asyncio.to_thread(rollout_plan.plan, spec, registry, settings)
    record = await asyncio.to_thread(
        registry.rollouts.create, spec, created_by=f"{principal.via}:{principal.subject_hint}"
    )
    await durable_calls.start_new(client, ROLLOUT, spec.rollout_id, initial_state(spec, settings))
    return record


def get(principal: Principal, rollout_id: str, registry: TwinRegistry) -> dict[str, Any]:
    _operator(principal)
    record = registry.rollouts.get(rollout_id)
    return {**record, "failures": registry.rollouts.failures(rollout_id)}


def list_rollouts(principal: Principal, registry: TwinRegistry) -> dict[str, Any]:
    _operator(principal)
    return {"items": registry.rollouts.list_rollouts()}


async def control(
    principal: Principal, rollout_id: str, action: str, registry: TwinRegistry,
    client: df.DurableOrchestrationClient,
) -> dict[str, Any]:  # fmt: skip
    _operator(principal)
    if action not in _CONTROLS:
        raise InvalidInput("action", "action must be pause, resume, abort or approve")
    record = await asyncio.to_thread(registry.rollouts.get, rollout_id)
    if RolloutStatus(record["status"]) in TERMINAL:
        raise RolloutNotRunning(f"rollout {rollout_id} has ended ({record['status']})", rollout_id=rollout_id)
    # Both writes are refused under the record's ETag if the rollout ended since the read above.
    if action == "approve":  # recorded on the rollout (who, when); the event only wakes the orchestration
        by = f"{principal.via}:{principal.subject_hint}"
        record = await asyncio.to_thread(registry.rollouts.approve, rollout_id, by=by)
    else:
        record = await asyncio.to_thread(registry.rollouts.set_control, rollout_id, _CONTROLS[action])
    try:
        await durable_calls.raise_event(client, rollout_id, CONTROL_EVENT, {"action": action})
    except durable_calls.InstanceEnded:
        # The orchestration ended after the record was written (its last step may still be recording it).
        raise RolloutNotRunning(
            f"rollout {rollout_id} has ended; its orchestration takes no more controls", rollout_id=rollout_id
        ) from None
    except durable_calls.InstanceNotFound:
        raise RolloutNotRunning(
            f"rollout {rollout_id} has no orchestration to steer (it was never started or was purged)",
            rollout_id=rollout_id,
        ) from None
    return record
