"""The ``twinctl`` commands: parse arguments, call the API, print the one thing asked for.

Each command reads top to bottom as: build the call -> (optionally) wait -> print. Failures are
raised as ``TwinctlError`` and turned into the single ``error:`` line and exit code in one place
(``_Group.invoke``), so no command prints an error or picks an exit code itself.
"""

from __future__ import annotations

import click

# The day-two commands (update, rollout …) live in their own modules and register on the group.
from twinctl import adopt_command, fleet_commands, safety_commands  # noqa: F401
from twinctl.api import require_job_id
from twinctl.events import events_command
from twinctl.group import (
    STATUSES,
    _check_timeout,
    _follow,
    _json_option,
    _print_outcome,
    _runtime,
    _timeout_option,
    _wait,
    cli,
)
from twinctl.output import emit_fields, emit_json, emit_json_line, emit_table

# ---- commands ---------------------------------------------------------------------------------------


@cli.command()
@click.argument("name")
@click.option("--owner", required=True, help="Who the twin belongs to (e.g. github:kody).")
@click.option("--region", help="Azure region (server default if omitted).")
@click.option("--runtime-target", help="Runtime target (server default if omitted).")
@click.option("--deploy-ref", help="Brainstem code version: git sha, tag or bundle hash.")
@click.option("--callback-url", help="Also POST the twin's lifecycle events here (https, allow-listed host).")
@click.option("--wait", is_flag=True, help="Wait until the brainstem is live; print its URL.")
@_json_option
@_timeout_option
def create(
    name: str,
    owner: str,
    region: str | None,
    runtime_target: str | None,
    deploy_ref: str | None,
    callback_url: str | None,
    wait: bool,
    as_json: bool,
    timeout: float | None,
) -> None:
    """Provision a brainstem for twin NAME.

    Without --wait, prints the job_id (or the 202 body with --json). With --wait, prints the
    brainstem's URL once it is live (or the final job with --json).
    """
    _check_timeout(wait, timeout)
    runtime = _runtime()
    reply = runtime.api.begin_create(
        name,
        owner=owner,
        region=region,
        runtime_target=runtime_target,
        deploy_ref=deploy_ref,
        callback_url=callback_url,
    )
    _follow(
        runtime, reply, wait=wait, as_json=as_json, timeout=timeout, doing=f"provisioning {reply.body.get('cloud_id')}"
    )


@cli.command()
@click.argument("identifier", metavar="ID")
@_json_option
def get(identifier: str, as_json: bool) -> None:
    """Show a brainstem (ID is a cloud_id like twin-kody-e89834) or a job (ID is a 32-hex job_id)."""
    record = _runtime().api.get(identifier)
    if as_json:
        emit_json(record)
    else:
        emit_fields(record)


@cli.command(name="list")
@click.option("--owner", help="Only this owner's brainstems.")
@click.option("--status", type=click.Choice(STATUSES), help="Only brainstems in this status.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N brainstems (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--jsonl", "as_json_lines", is_flag=True, help="Print one JSON object per line, as pages arrive.")
def list_(owner: str | None, status: str | None, limit: int | None, as_json: bool, as_json_lines: bool) -> None:
    """List brainstems, following continuation tokens to the last page."""
    if as_json and as_json_lines:
        raise click.UsageError("choose one of --json and --jsonl")
    rows = _runtime().api.list_brainstems(owner=owner, status=status, limit=limit)
    if as_json_lines:
        for row in rows:
            emit_json_line(row)
    elif as_json:
        emit_json(list(rows))
    else:
        emit_table(list(rows))


@cli.command()
@click.argument("cloud_id")
@click.option("--wait", is_flag=True, help="Wait until the brainstem is deleted; print its cloud_id.")
@click.option("--confirm-bulk", is_flag=True, help="Operators: confirm a delete past the hourly delete limit.")
@_json_option
@_timeout_option
def delete(cloud_id: str, wait: bool, confirm_bulk: bool, as_json: bool, timeout: float | None) -> None:
    """Tear down the brainstem CLOUD_ID (its whole resource group), after the API's grace period.

    Without --wait, prints the teardown's job_id (or the 202 body with --json); `twinctl restore`
    cancels it within the grace period (CP_DELETE_GRACE_SECONDS).
    """
    _check_timeout(wait, timeout)
    runtime = _runtime()
    reply = runtime.api.begin_delete(cloud_id, confirm_bulk=confirm_bulk)
    _follow(runtime, reply, wait=wait, as_json=as_json, timeout=timeout, doing=f"deleting {cloud_id}")


@cli.command()
@_json_option
def health(as_json: bool) -> None:
    """Fleet counts by status, and whether the registry answers."""
    counts = _runtime().api.get_health()
    if as_json:
        emit_json(counts)
    else:
        emit_fields(counts)


@cli.command(name="wait")
@click.argument("job_id")
@_json_option
@_timeout_option
def wait_(job_id: str, as_json: bool, timeout: float | None) -> None:
    """Wait for job JOB_ID to end; print the brainstem URL (provision) or cloud_id (teardown)."""
    runtime = _runtime()
    job = _wait(runtime, require_job_id(job_id), timeout, None, started=None)
    _print_outcome(job, as_json)


cli.add_command(events_command)


def main() -> None:
    """The console-script entry point (``twinctl``) and ``python -m twinctl``."""
    cli(prog_name="twinctl")
