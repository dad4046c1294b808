"""Start and stop a private Azurite (blob, queue, table) on free loopback ports, in memory.

Used by the test suite, ``make test`` and the offline sandbox. Ports are chosen by Azurite itself
(port 0) and read back from its start-up lines, so parallel runs never collide. Run as a module to
wrap a command: ``python -m sandbox.azurite -- pytest -q`` exports the connection settings to it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from sandbox.lifetime import die_with_parent

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
# Azurite's published development key (the same for every installation; not a secret).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at (http://\S+)")


@dataclass
class Azurite:
    process: subprocess.Popen[str]
    blob_endpoint: str
    queue_endpoint: str
    table_endpoint: str

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint}/{ACCOUNT};QueueEndpoint={self.queue_endpoint}/{ACCOUNT};"
            f"TableEndpoint={self.table_endpoint}/{ACCOUNT};"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def azurite_binary() -> Path:
    binary = ROOT / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: run `make setup` (npm install) first")
    return binary


def start_azurite(timeout: float = 30.0, *, location: Path | None = None) -> Azurite:
    """Azurite in memory, or (``location``) on a workspace folder it loads and saves (benchmarks)."""
    storage = ["--location", str(location)] if location is not None else ["--inMemoryPersistence"]
    process = subprocess.Popen(
        [
            str(azurite_binary()),
            "--blobPort",
            "0",
            "--queuePort",
            "0",
            "--tablePort",
            "0",
            *storage,
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--silent",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        start_new_session=True,  # a Ctrl-C at the terminal reaches us, and we stop it in order
        preexec_fn=die_with_parent(),  # and if we die without stopping it (SIGKILL), the kernel stops it
    )
    endpoints: dict[str, str] = {}
    ready = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = _LISTENING.search(line)
            if match:
                endpoints[match.group(1)] = match.group(2)
                if len(endpoints) == 3:
                    ready.set()
        ready.set()  # the process ended: let the caller see it

    threading.Thread(target=read_output, name="azurite-output", daemon=True).start()
    if not ready.wait(timeout) or len(endpoints) < 3:
        process.kill()
        raise RuntimeError(f"Azurite did not start within {timeout:.0f}s (got {sorted(endpoints)})")
    return Azurite(process, endpoints["Blob"], endpoints["Queue"], endpoints["Table"])


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: python -m sandbox.azurite -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    azurite = start_azurite()
    env = dict(os.environ, CP_TEST_STORAGE_CONNECTION=azurite.connection_string)
    child = subprocess.Popen(command, env=env, preexec_fn=die_with_parent())
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.send_signal(signal.SIGINT)
        return child.wait()
    finally:
        azurite.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
