"""Activities of a rollout: start a batch of updates, collect how they ended, read and set its state."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities.payloads import JsonObject
from controlplane.domain.rollouts import RolloutSpec, RolloutStatus
from controlplane.registry import default_registry
from controlplane.service import rollout_batches
from controlplane.settings import get_settings
from controlplane.workflows import rollout_bake

blueprint = df.Blueprint()


@blueprint.activity_trigger(input_name="batch")
@blueprint.durable_client_input(client_name="client")
async def start_rollout_batch(batch: JsonObject, client: df.DurableOrchestrationClient) -> dict[str, Any]:
    spec = RolloutSpec.from_dict(batch["spec"])
    return await rollout_batches.start_batch(
        spec,
        batch["wave"],
        batch["batch"],
        batch.get("cursor"),
        batch["wanted"],
        default_registry(),
        client,
        get_settings(),
    )


@blueprint.activity_trigger(input_name="batch")
@blueprint.durable_client_input(client_name="client")
async def start_rollback_batch(batch: JsonObject, client: df.DurableOrchestrationClient) -> dict[str, Any]:
    spec = RolloutSpec.from_dict(batch["spec"])
    # "wanted" names each subscription's window (the key stays: in-flight histories carry it).
    return await rollout_batches.start_rollback_batch(
        spec, batch["wave"], batch["wanted"], default_registry(), client, get_settings()
    )


@blueprint.activity_trigger(input_name="wave")
@blueprint.durable_client_input(client_name="client")
async def collect_rollout_outcomes(wave: JsonObject, client: df.DurableOrchestrationClient) -> dict[str, Any]:
    spec = RolloutSpec.from_dict(wave["spec"])
    return await rollout_batches.collect_outcomes(spec, wave["wave"], default_registry(), client, get_settings())


@blueprint.activity_trigger(input_name="change")
def set_rollout_status(change: JsonObject) -> dict[str, Any]:
    record = default_registry().rollouts.set_status(
        change["rollout_id"], RolloutStatus(change["status"]), change.get("message", ""),
        awaiting_wave=change.get("awaiting_wave"),
    )  # fmt: skip
    return {"status": record["status"], "control": record["control"]}


@blueprint.activity_trigger(input_name="rollout")
def rollout_control(rollout: JsonObject) -> dict[str, Any]:
    """What the operator last asked for (run, pause, abort): the record survives continue_as_new, events may not."""
    # An object, not the bare id: the worker parses a plain string input as JSON first ("1e3" -> 1000.0).
    record = default_registry().rollouts.get(rollout["rollout_id"])
    return {"control": record["control"], "approved": [approval["wave"] for approval in record["approvals"]]}


@blueprint.activity_trigger(input_name="page")
def probe_baking_wave(page: JsonObject) -> dict[str, Any]:
    """One page of a bake round: probe the wave's updated twins after ``after``."""
    spec = RolloutSpec.from_dict(page["spec"])
    return rollout_bake.probe_page(spec, page["wave"], page.get("after"), default_registry(), get_settings())


@blueprint.activity_trigger(input_name="window")
def judge_rollout_error_rate(window: JsonObject) -> dict[str, Any]:
    """The rollout's error-rate gate over the bake so far (Log Analytics, through azure-monitor-query)."""
    spec = RolloutSpec.from_dict(window["spec"])
    return rollout_bake.judge_error_rate(spec, window["since"], window["until"], get_settings())
