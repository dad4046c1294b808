"""``twinctl rollout plan|approve`` and ``twinctl hold|unhold``: a rollout's gates from the command line.

``gate_options`` adds the bake, approval and window options to ``rollout start`` and ``rollout plan``
alike, and ``gate_fields`` turns them into the request's ``waves``/``gates``/``window`` fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from twinctl.api import require_cloud_id
from twinctl.main import _json_option, _runtime, cli
from twinctl.output import emit_fields, emit_json, emit_table

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def gate_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a rollout's gates (the API's bounds: controlplane.domain.rollout_gates)."""
    options = [
        click.option("--bake-seconds", type=click.IntRange(0, 604800), default=0, show_default=True,
                     help="After each wave, probe its twins this long before the next."),
        click.option("--canary-bake-seconds", type=click.IntRange(0, 604800),
                     help="The canary's bake (default: twice --bake-seconds)."),
        click.option("--approve-after", multiple=True,
                     help='Wait for "twinctl rollout approve" after this wave ("canary" or an index); repeatable.'),
        click.option("--probe-interval", type=click.IntRange(5, 3600), help="Seconds between a bake's probe rounds."),
        click.option("--window-tz", help="Maintenance window: an IANA time zone (e.g. Europe/Amsterdam)."),
        click.option("--window-days", help="Maintenance window: days, comma-separated (mon,tue,...)."),
        click.option("--window-start", help="Maintenance window: opens at HH:MM."),
        click.option("--window-end", help="Maintenance window: closes at HH:MM (before start: past midnight)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def gate_fields(
    bake_seconds: int, canary_bake_seconds: int | None, approve_after: tuple[str, ...], probe_interval: int | None,
    window_tz: str | None, window_days: str | None, window_start: str | None, window_end: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """(the fields to add to ``waves``, the top-level ``gates``/``window`` fields)."""
    waves: dict[str, Any] = {}
    if bake_seconds:
        waves["bake_seconds"] = bake_seconds
    if canary_bake_seconds is not None:
        waves["canary_bake_seconds"] = canary_bake_seconds
    if approve_after:
        waves["approve_after"] = [int(w) if w.isdigit() else w for w in approve_after]
    top: dict[str, Any] = {}
    if probe_interval is not None:
        top["gates"] = {"probe_interval_seconds": probe_interval}
    window = (window_tz, window_days, window_start, window_end)
    if any(window):
        if not all(window):
            raise click.UsageError("a window needs --window-tz, --window-days, --window-start and --window-end")
        days = [day.strip().lower() for day in str(window_days).split(",") if day.strip()]
        if not days or any(day not in _DAYS for day in days):
            raise click.UsageError(f"--window-days is a comma-separated list of {','.join(_DAYS)}")
        top["window"] = {"time_zone": window_tz, "days": days, "start": window_start, "end": window_end}
    return waves, top


def print_plan(plan: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(plan)
        return
    estimate = plan["estimate"]
    emit_fields({
        "selected": plan["selected"], "held": plan["held"], "waves": len(plan["waves"]),
        "estimate_seconds": estimate["seconds"], "arm_write_seconds": estimate["arm_write_seconds"],
        "bake_seconds": estimate["bake_seconds"], "approvals": estimate["approvals"], "note": estimate["note"],
    })  # fmt: skip
    emit_table(plan["waves"])


@cli.command()
@click.argument("cloud_id")
@click.option("--reason", required=True, help="Why the twin is held (shown to whoever tries to update it).")
@click.option("--until", help="When the hold lapses: ISO 8601 with its offset (default: until lifted).")
@_json_option
def hold(cloud_id: str, reason: str, until: str | None, as_json: bool) -> None:
    """Hold the twin CLOUD_ID at its version: rollouts pass it by and updates are refused."""
    body: dict[str, Any] = {"reason": reason, **({"until": until} if until else {})}
    row = _runtime().api.put_hold(require_cloud_id(cloud_id), body)
    emit_json(row) if as_json else click.echo(f"{cloud_id}: held ({reason})")


@cli.command()
@click.argument("cloud_id")
@_json_option
def unhold(cloud_id: str, as_json: bool) -> None:
    """Lift the hold on the twin CLOUD_ID."""
    row = _runtime().api.lift_hold(require_cloud_id(cloud_id))
    emit_json(row) if as_json else click.echo(f"{cloud_id}: not held")
