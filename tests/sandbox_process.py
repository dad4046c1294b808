"""The offline sandbox (`python -m sandbox.serve`) as a child process on free ports, as a user starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sandbox.lifetime import die_with_parent

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningSandbox:
    process: subprocess.Popen[str]
    base_url: str
    operator_key: str
    banner: str
    output: list[str]  # every line printed after the banner (events, errors), read as it comes
    reader: threading.Thread | None = None

    def output_after_exit(self, timeout: float = 30) -> str:
        """Everything printed after the banner, once the process has exited."""
        self.process.wait(timeout=timeout)
        if self.reader is not None:
            self.reader.join(timeout=timeout)
        return "".join(self.output)


@contextmanager
def running_sandbox(environ: dict[str, str] | None = None, *, latency_scale: float = 0.2) -> Iterator[RunningSandbox]:
    """Start the sandbox, wait for its banner, yield it; killed afterwards if still running."""
    port, events_port = free_port(), free_port()
    env = {**os.environ, "CP_SANDBOX_LATENCY_SCALE": str(latency_scale), **(environ or {})}
    env.pop("CP_TEST_STORAGE_CONNECTION", None)  # the sandbox starts its own Azurite
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", "--port", str(port), "--events-port", str(events_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=die_with_parent(),  # a test run that dies takes the sandbox (and so its Azurite) with it
    )  # fmt: skip
    lines, key = [], ""
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    try:
        while True:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("operator API key for this run:"):
                key = line.split(":", 1)[1].strip()
            if line.startswith("Ctrl-C stops everything"):
                break
            if (not line and process.poll() is not None) or time.monotonic() > deadline:
                raise AssertionError("the sandbox never became ready:\n" + "".join(lines))
        assert key, "".join(lines)
        running = RunningSandbox(process, f"http://127.0.0.1:{port}", key, "".join(lines), [])
        # Drained all along: a full pipe would stall the sandbox at its next printed event.
        running.reader = threading.Thread(target=lambda: running.output.extend(process.stdout or ()), daemon=True)
        running.reader.start()
        yield running
    finally:
        if process.poll() is None:
            # SIGTERM, as Ctrl-C would: the sandbox then stops its own Azurite. A SIGKILL would orphan it.
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
