"""Nothing the sandbox starts outlives it: SIGKILL the parent, and its Azurite (own session) ends too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.worker import APP_DIRECTORY

# A parent that starts a private Azurite (as the sandbox and `make test` do), prints its pid, and waits.
PARENT = """
import sys, time
from sandbox.azurite import start_azurite
azurite = start_azurite()
print(azurite.process.pid, flush=True)
time.sleep(600)
"""


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone_after_waiting(pid: int, bound: float = 30.0) -> bool:
    """Wait for ``pid`` to end; the bound only stops a run that would otherwise hang (no timing asserted)."""
    deadline = time.monotonic() + bound
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill_if_running(pid: int) -> None:
    if running(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_azurite_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=APP_DIRECTORY, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(APP_DIRECTORY)},
    )  # fmt: skip
    assert parent.stdout is not None
    azurite_pid = int(parent.stdout.readline())
    try:
        assert running(azurite_pid)
        assert os.getsid(azurite_pid) != os.getsid(parent.pid)  # its own session: no terminal signal reaches it
        parent.send_signal(signal.SIGKILL)  # no cleanup code runs in the parent
        parent.wait()
        assert gone_after_waiting(azurite_pid), "Azurite outlived the process that started it"
    finally:
        kill_if_running(azurite_pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_azurite_wrapper_takes_its_command_and_azurite_with_it() -> None:
    """``python -m sandbox.azurite -- CMD`` (what `make pytest` runs), SIGKILLed: CMD and Azurite both end."""
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "sandbox.azurite", "--", sys.executable, "-c",
         "import os, time; print(os.getpid(), flush=True); time.sleep(600)"],
        cwd=APP_DIRECTORY, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert wrapper.stdout is not None
    command_pid = int(wrapper.stdout.readline())
    children = [int(p) for p in Path(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children").read_text().split()]
    try:
        assert command_pid in children and len(children) == 2  # the command and Azurite
        wrapper.send_signal(signal.SIGKILL)
        wrapper.wait()
        assert all(gone_after_waiting(pid) for pid in children), "a child outlived the wrapper"
    finally:
        for pid in children:
            kill_if_running(pid)
