"""``twinctl update`` and ``twinctl rollout …``: day-two operations on existing twins.

Same shape as every command: build the call -> (optionally) follow it -> print. A rollout is
followed by polling its record; on a terminal one line shows each wave's progress.
"""

from __future__ import annotations

from typing import Any

import click

from twinctl.errors import Interrupted, JobFailed
from twinctl.group import _check_timeout, _follow, _json_option, _runtime, _timeout_option, cli
from twinctl.output import Progress, emit_fields, emit_json, emit_table
from twinctl.rollout_gate_commands import gate_fields, gate_options, print_plan

ROLLOUT_POLL_SECONDS = 10.0
_ENDED = frozenset({"completed", "halted", "aborted"})
# A rollout that waits for an operator: following it stops there (approve, then follow again).
_WAITS = frozenset({"awaiting_approval"})


@cli.command()
@click.argument("cloud_id")
@click.option("--deploy-ref", help="The code version to move the twin to.")
@click.option("--refresh-settings", is_flag=True, help="Re-publish the current version with the current settings.")
@click.option("--wait", is_flag=True, help="Wait until the twin runs the new version; print its URL.")
@_json_option
@_timeout_option
def update(
    cloud_id: str, deploy_ref: str | None, refresh_settings: bool, wait: bool, as_json: bool, timeout: float | None
) -> None:
    """Move the brainstem CLOUD_ID to a new --deploy-ref (a failed update puts the previous one back)."""
    if bool(deploy_ref) == refresh_settings:
        raise click.UsageError("give one of --deploy-ref and --refresh-settings")
    _check_timeout(wait, timeout)
    runtime = _runtime()
    reply = runtime.api.begin_update(cloud_id, deploy_ref=deploy_ref, refresh_settings=refresh_settings)
    _follow(runtime, reply, wait=wait, as_json=as_json, timeout=timeout, doing=f"updating {cloud_id}")


@cli.group()
def rollout() -> None:
    """Move many twins to a deploy_ref in growing waves (operators)."""


def _selection_options(command: Any) -> Any:
    """What ``rollout start`` and ``rollout plan`` both take: the selector, the waves, the gates."""
    options = [
        click.argument("deploy_ref"),
        click.option("--owner", help="Only this owner's twins."),
        click.option("--region", help="Only twins in this region."),
        click.option("--runtime-target", help="Only twins on this runtime target."),
        click.option("--from-ref", help="Only twins now running this deploy_ref."),
        click.option("--canary", type=click.IntRange(1, 1000), default=1, show_default=True, help="Twins in the first wave."),
        click.option(
            "--growth", type=click.FloatRange(1, 10), default=2.0, show_default=True, help="Each wave's size over the last."
        ),
        click.option(  # the API's bound: controlplane.domain.rollouts.MAX_PARALLELISM (twinctl imports no server code)
            "--parallelism", type=click.IntRange(1, 100), default=10, show_default=True,
            help="Twins updated at once in each subscription.",
        ),
        click.option(
            "--max-failure-ratio", type=click.FloatRange(0, 1), default=0.0, show_default=True,
            help="Share of a wave that may fail before the rollout halts and moves that wave back.",
        ),
    ]  # fmt: skip
    command = gate_options(command)
    for option in reversed(options):
        command = option(command)
    return command


def _rollout_body(
    deploy_ref: str, owner: str | None, region: str | None, runtime_target: str | None, from_ref: str | None,
    canary: int, growth: float, parallelism: int, max_failure_ratio: float, **gates: Any,
) -> dict[str, Any]:  # fmt: skip
    selector = {"owner": owner, "region": region, "runtime_target": runtime_target, "deploy_ref": from_ref}
    wave_gates, top = gate_fields(**gates)
    return {
        "deploy_ref": deploy_ref,
        "selector": {k: v for k, v in selector.items() if v is not None},
        "waves": {
            "canary": canary, "growth": growth, "parallelism": parallelism, "max_failure_ratio": max_failure_ratio,
            **wave_gates,
        },
        **top,
    }  # fmt: skip


@rollout.command(name="start")
@_selection_options
@click.option("--follow", is_flag=True, help="Show progress until the rollout ends.")
@_json_option
def rollout_start(follow: bool, as_json: bool, **options: Any) -> None:
    """Start moving the selected active twins to DEPLOY_REF; prints the rollout id."""
    record = _runtime().api.start_rollout(_rollout_body(**options))
    if follow:
        record = _watch(record["rollout_id"])
    if as_json:
        emit_json(record)
    else:
        click.echo(record["rollout_id"] if not follow else _summary(record))
    _require_completed(record, follow)


@rollout.command(name="plan")
@_selection_options
@_json_option
def rollout_plan(as_json: bool, **options: Any) -> None:
    """What a rollout to DEPLOY_REF would do (twins per wave, held twins, an estimate); starts nothing."""
    print_plan(_runtime().api.start_rollout({**_rollout_body(**options), "dry_run": True}), as_json)


@rollout.command(name="status")
@click.argument("rollout_id")
@click.option("--follow", is_flag=True, help="Show progress until the rollout ends.")
@_json_option
def rollout_status(rollout_id: str, follow: bool, as_json: bool) -> None:
    """A rollout's status, its waves and its failed twins."""
    record = _watch(rollout_id) if follow else _runtime().api.get_rollout(rollout_id).body
    if as_json:
        emit_json(record)
        return
    emit_fields({k: v for k, v in record.items() if k not in ("waves", "failures", "spec")})
    emit_table([{k: v for k, v in wave.items()} for wave in record.get("waves", [])])
    for failure in record.get("failures") or []:
        error = failure.get("error") or {}
        click.echo(
            f"failed: {failure['cloud_id']} wave {failure.get('wave')}: {error.get('code')}: {error.get('message')}"
        )
    _require_completed(record, follow)


@rollout.command(name="list")
@_json_option
def rollout_list(as_json: bool) -> None:
    """Every rollout, newest first."""
    items = _runtime().api.list_rollouts()
    if as_json:
        emit_json(items)
    else:
        emit_table([{k: r[k] for k in ("rollout_id", "status", "wave", "created_at", "message")} for r in items])


def _control(action: str) -> Any:
    @rollout.command(name=action, help=f"{action.capitalize()} the rollout ROLLOUT_ID.")
    @click.argument("rollout_id")
    @_json_option
    def command(rollout_id: str, as_json: bool) -> None:
        record = _runtime().api.control_rollout(rollout_id, action)
        if as_json:
            emit_json(record)
        else:
            click.echo(f"{rollout_id}: {record['status']} (control: {record['control']})")

    return command


for _action in ("pause", "resume", "abort", "approve"):
    _control(_action)


def _watch(rollout_id: str) -> dict[str, Any]:
    """Poll the rollout until it ends, redrawing one progress line on a terminal."""
    runtime = _runtime()
    progress = Progress(runtime.progress_stream)
    try:
        while True:
            reply = runtime.api.get_rollout(rollout_id)
            record = reply.body
            progress.line(_summary(record))
            if record.get("status") in _ENDED | _WAITS:
                return record
            runtime.clock.sleep(reply.retry_after or ROLLOUT_POLL_SECONDS)
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped watching; the rollout goes on: 'twinctl rollout status {rollout_id} --follow'"
        ) from None
    finally:
        progress.finish()


def _summary(record: dict[str, Any]) -> str:
    waves = record.get("waves") or []
    done = sum(w.get("succeeded", 0) for w in waves)
    failed = sum(w.get("failed", 0) for w in waves)
    return (
        f"{record['rollout_id']}: {record['status']} · wave {record.get('wave', 0)} · {done} updated, {failed} failed"
    )


def _require_completed(record: dict[str, Any], followed: bool) -> None:
    if followed and record.get("status") != "completed":
        raise JobFailed(f"rollout {record['rollout_id']} ended {record.get('status')}: {record.get('message')}", record)
