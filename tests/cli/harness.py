"""Running the CLI in-process on fake time, and checking what it printed."""

from __future__ import annotations

from io import StringIO

from click.testing import CliRunner, Result

from tests.cli.stub_api import StubControlPlane
from twinctl.group import Runtime
from twinctl.main import cli  # the group with every command module registered


class FakeClock:
    """Time that moves only when the CLI sleeps; every sleep is recorded for the test to check."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.time += seconds


class TerminalStream(StringIO):
    """A stderr that says it is a terminal, to see the progress a person would see."""

    def isatty(self) -> bool:
        return True


class Twinctl:
    """Runs ``twinctl --url <stub> ARGS`` in-process on the fake clock, with no TWINCTL_* from the outside."""

    def __init__(self, stub: StubControlPlane, clock: FakeClock) -> None:
        self.stub = stub
        self.clock = clock

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, url: str | None = None, progress: StringIO | None = None
    ) -> Result:
        runtime = Runtime(clock=self.clock, progress_stream=progress)
        clean_env: dict[str, str | None] = {"TWINCTL_URL": None, "TWINCTL_KEY": None, "TWINCTL_TOKEN": None}
        clean_env.update(env or {})
        prefix = [] if url == "" else ["--url", url or self.stub.url]
        result = CliRunner().invoke(cli, [*prefix, *args], obj=runtime, env=clean_env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a bug in the CLI, not an answer: show the traceback
        return result


def assert_error(result: Result, exit_code: int, message: str) -> None:
    """Exactly one stderr line, ``error: <message>``; nothing on stdout; the expected exit code."""
    assert result.stderr.splitlines() == [f"error: {message}"], result.stderr
    assert result.stdout == ""
    assert result.exit_code == exit_code
