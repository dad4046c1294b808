"""The ``twinctl`` commands: parse arguments, call the API, print the one thing asked for.

Each command reads top to bottom as: build the call -> (optionally) wait -> print. Failures are
raised as ``TwinctlError`` and turned into the single ``error:`` line and exit code in one place
(``_Group.invoke``), so no command prints an error or picks an exit code itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

from twinctl import __version__
from twinctl.api import DEFAULT_URL, ControlPlaneClient, Reply, require_job_id
from twinctl.errors import Interrupted, TwinctlError, UnexpectedResponse
from twinctl.events import events_command
from twinctl.output import Progress, emit_fields, emit_json, emit_json_line, emit_table
from twinctl.waiting import Clock, PollPolicy, SystemClock, require_success, wait_for_job

DEFAULT_WAIT_TIMEOUT_SECONDS = 1800.0  # readiness alone may take 600 s; teardowns are slower still
STATUSES = ("provisioning", "active", "updating", "errored", "deleting", "deleted", "missing")

HELP = f"""Create, inspect, list and delete Twin Stack brainstems through a control plane's REST API.

\b
Connection (options go before the command; environment variables work everywhere):
  --url   / TWINCTL_URL    the control plane (default {DEFAULT_URL}; a trailing /api/cp is fine)
  --key   / TWINCTL_KEY    operator API key, sent as the x-api-key header
  --token / TWINCTL_TOKEN  bearer token, sent as Authorization: Bearer

\b
Scripting:
  URL=$(twinctl create kody --owner github:kody --wait)   # stdout is the URL alone
  JOB=$(twinctl delete twin-kody-e89834) && twinctl wait "$JOB"
  twinctl list --owner github:kody --json | jq -r '.[].url'

\b
Exit codes:
  0  ok
  1  anything else (server error, unexpected answer, gave up waiting)
  2  invalid input (HTTP 400/413/415/422, or bad command-line usage)
  3  not found (HTTP 404/410)
  4  conflict (HTTP 409, e.g. the twin already exists)
  5  the job failed (provisioning or teardown ended Failed, Terminated or cancelled)
  6  control plane unreachable (connection refused, DNS failure, timeout)
  7  unauthorized or forbidden (HTTP 401/403)
  8  quota or throttled (HTTP 429)
  130  interrupted while waiting (the job goes on; resume with 'twinctl wait JOB_ID')

Errors are one line on stderr: 'error: <title>: <detail> (field: <field>)'.
"""


@dataclass
class Runtime:
    """What commands need besides their arguments. Tests pass their own (fake clock, progress stream)."""

    clock: Clock = field(default_factory=SystemClock)
    policy: PollPolicy = field(default_factory=PollPolicy)
    progress_stream: TextIO | None = None  # None: the real stderr, resolved when a command runs
    client: ControlPlaneClient | None = None

    @property
    def api(self) -> ControlPlaneClient:
        assert self.client is not None, "the group callback sets the client"
        return self.client


class _Group(click.Group):
    """Turns every ``TwinctlError`` into one stderr line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TwinctlError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(int(error.exit_code))


@click.group(cls=_Group, help=HELP, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--url", envvar="TWINCTL_URL", default=DEFAULT_URL, show_default=True, help="Control plane base URL.")
@click.option("--key", envvar="TWINCTL_KEY", help="Operator API key (x-api-key).")
@click.option("--token", envvar="TWINCTL_TOKEN", help="Bearer token (Authorization: Bearer).")
@click.option("-v", "--verbose", is_flag=True, help="Log each HTTP request (method, URL, status) on stderr.")
@click.version_option(__version__, prog_name="twinctl")
@click.pass_context
def cli(ctx: click.Context, url: str, key: str | None, token: str | None, verbose: bool) -> None:
    if verbose:
        logging.basicConfig(format="twinctl: %(message)s")
        logging.getLogger("twinctl").setLevel(logging.DEBUG)
    runtime = ctx.ensure_object(Runtime)
    if key and token:
        raise click.UsageError("give --key (operator API key) or --token (bearer token), not both")
    try:
        runtime.client = ControlPlaneClient(url, key=key, token=token)
    except TwinctlError as error:
        raise click.BadParameter(str(error), param_hint="--url") from None


def _runtime() -> Runtime:
    return click.get_current_context().find_object(Runtime)  # type: ignore[return-value]


def _timeout_option(func: Any) -> Any:
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="SECONDS",
        help=f"Stop waiting after this long (default {DEFAULT_WAIT_TIMEOUT_SECONDS:g}); the job goes on.",
    )(func)


def _json_option(func: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print the full JSON object instead.")(func)


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


def _follow(runtime: Runtime, reply: Any, *, wait: bool, as_json: bool, timeout: float | None, doing: str) -> None:
    """After a 202: print the job_id (or the body), or wait for the job and print its outcome."""
    job_id = _started_job_id(reply)
    if not wait:
        if as_json:
            emit_json(reply.body)
        else:
            click.echo(job_id)
        return
    job = _wait(runtime, job_id, timeout, reply, started=f"{doing} (job {job_id})")
    _print_outcome(job, as_json)


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


# ---- shared steps -----------------------------------------------------------------------------------


def _check_timeout(wait: bool, timeout: float | None) -> None:
    if timeout is not None and not wait:
        raise click.UsageError("--timeout only applies together with --wait")


def _started_job_id(reply: Reply) -> str:
    job_id = reply.body.get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise UnexpectedResponse("the server accepted the request but returned no job_id")
    return job_id


def _wait(
    runtime: Runtime, job_id: str, timeout: float | None, accepted: Reply | None, *, started: str | None
) -> dict[str, Any]:
    """Wait with progress on a terminal; Ctrl-C says how to pick the wait up again."""
    progress = Progress(runtime.progress_stream)
    if started:
        progress.note(started)
    try:
        return wait_for_job(
            runtime.api,
            job_id,
            timeout=timeout if timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS,
            policy=runtime.policy,
            clock=runtime.clock,
            on_progress=progress.show,
            initial_retry_after=accepted.retry_after if accepted is not None else None,
        )
    except KeyboardInterrupt:
        raise Interrupted(f"stopped waiting; job {job_id} goes on: resume with 'twinctl wait {job_id}'") from None
    finally:
        progress.finish()


def _print_outcome(job: dict[str, Any], as_json: bool) -> None:
    """Print the result a script wants, then raise JobFailed (exit 5) if the job did not succeed.

    With --json the final job is printed even when it failed: it holds the whole error.
    """
    if as_json:
        emit_json(job)
        require_success(job)
        return
    output = require_success(job)
    if job.get("kind") == "teardown":
        click.echo(output.get("cloud_id") or job.get("cloud_id"))
        return
    url = output.get("url")
    if not url:
        raise UnexpectedResponse(f"job {job.get('job_id')} completed without a brainstem url in its output")
    click.echo(url)


cli.add_command(events_command)
# The day-two commands (update, rollout …) live in their own module and register on this group.
from twinctl import adopt_command, fleet_commands, safety_commands  # noqa: E402, F401


def main() -> None:
    """The console-script entry point (``twinctl``) and ``python -m twinctl``."""
    cli(prog_name="twinctl")
