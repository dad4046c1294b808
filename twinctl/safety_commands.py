"""``twinctl restore`` and ``twinctl audit``: cancel a pending delete; read who changed what."""

from __future__ import annotations

import click

from twinctl.main import _check_timeout, _follow, _json_option, _runtime, _timeout_option, cli
from twinctl.output import emit_json, emit_json_line, emit_table

AUDIT_COLUMNS = ("occurred_at", "action", "target", "principal", "job_id", "request_id")


@cli.command()
@click.argument("cloud_id")
@_json_option
def restore(cloud_id: str, as_json: bool) -> None:
    """Cancel the pending delete of CLOUD_ID (within its grace period); the twin never stopped."""
    row = _runtime().api.restore(cloud_id)
    if as_json:
        emit_json(row)
        return
    click.echo(f"{row.get('cloud_id')}: {row.get('status')}, pending_delete={str(row.get('pending_delete')).lower()}")


@cli.command()
@click.argument("cloud_id")
@click.option("--wait", is_flag=True, help="Wait until the repair has finished; print the twin's URL.")
@_json_option
@_timeout_option
def repair(cloud_id: str, wait: bool, as_json: bool, timeout: float | None) -> None:
    """Put CLOUD_ID back as registered: its deploy_ref, its settings and its group's tags (see `drift` in get)."""
    _check_timeout(wait, timeout)
    runtime = _runtime()
    reply = runtime.api.begin_repair(cloud_id)
    _follow(runtime, reply, wait=wait, as_json=as_json, timeout=timeout, doing=f"repairing {cloud_id}")


@cli.command()
@click.option("--cloud-id", help="Only this twin's records.")
@click.option("--principal", help="Only this caller's records (an owner id, or an operator's origin as shown).")
@click.option("--since", help="Only records at or after this ISO 8601 time.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N records (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--jsonl", "as_json_lines", is_flag=True, help="Print one JSON object per line, as pages arrive.")
def audit(
    cloud_id: str | None, principal: str | None, since: str | None, limit: int | None, as_json: bool,
    as_json_lines: bool,
) -> None:  # fmt: skip
    """The audit trail: every accepted change, who made it and when (owners: their own twins only)."""
    if as_json and as_json_lines:
        raise click.UsageError("choose one of --json and --jsonl")
    records = _runtime().api.audit_records(cloud_id=cloud_id, principal=principal, since=since, limit=limit)
    if as_json_lines:
        for record in records:
            emit_json_line(record)
    elif as_json:
        emit_json(list(records))
    else:
        emit_table([{k: r.get(k) for k in AUDIT_COLUMNS} for r in records], AUDIT_COLUMNS)
