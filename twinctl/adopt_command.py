"""``twinctl adopt``: give rows to the twins provision-twin-lite.sh made (operators).

Starts an adoption and follows it to its report (``--dry-run`` lists what would be adopted, writes
nothing). Adopting twice is a no-op, so the command can simply be run again.
"""

from __future__ import annotations

from typing import Any

import click

from twinctl.errors import Interrupted, JobFailed
from twinctl.group import _json_option, _runtime, cli
from twinctl.output import Progress, emit_json, emit_table

POLL_SECONDS = 2.0


@cli.command()
@click.option("--owner", help="Owner of twins whose resource group has no valid owner tag.")
@click.option("--subscription", "subscription_id", help="Only this pool subscription (default: every one).")
@click.option("--dry-run", is_flag=True, help="List what would be adopted; write nothing.")
@_json_option
def adopt(owner: str | None, subscription_id: str | None, dry_run: bool, as_json: bool) -> None:
    """Adopt the twins made outside the control plane (resource groups tagged stack=TwinStack)."""
    body: dict[str, Any] = {"dry_run": dry_run}
    if owner:
        body["owner"] = owner
    if subscription_id:
        body["subscription_id"] = subscription_id
    runtime = _runtime()
    started = runtime.api.start_adoption(body)
    job_id = started["job_id"]
    progress = Progress(runtime.progress_stream)
    try:
        while True:
            reply = runtime.api.get_adoption(job_id)
            if reply.body.get("done"):
                break
            progress.line(f"adoption {job_id}: {reply.body.get('runtime_status')}")
            runtime.clock.sleep(reply.retry_after or POLL_SECONDS)
    except KeyboardInterrupt:
        raise Interrupted(f"stopped watching; adoption {job_id} goes on") from None
    finally:
        progress.finish()
    view = reply.body
    if view.get("runtime_status") != "Completed":
        raise JobFailed(f"adoption {job_id} ended {view.get('runtime_status')}: {view.get('error')}", view)
    report = view["report"]
    if as_json:
        emit_json(report)
        return
    rows = report.get("would_adopt") if dry_run else report.get("adopted")
    click.echo(f"{'would adopt' if dry_run else 'adopted'}: {len(rows or [])}")
    columns = ("cloud_id", "status", "owner", "owner_tag", "runtime_target")
    emit_table([{k: r.get(k) for k in columns} for r in rows or []], columns)
    for skipped in report.get("skipped") or []:
        click.echo(f"skipped: {skipped.get('cloud_id') or skipped.get('resource_group')}: "
                   f"{skipped.get('why') or skipped.get('skipped')}")  # fmt: skip
    for subscription, why in (report.get("unreadable") or {}).items():
        click.echo(f"unreadable: {subscription}: {why}")
