"""What a benchmark figure was measured on: the machine, the commit, and the settings of the run."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import Any


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_and_commit() -> dict[str, Any]:
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as loadavg:
        load = loadavg.read().split()[:3]
    return {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_at_start": load,
        },
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def run_settings(settings: dict[str, str], **more: Any) -> dict[str, Any]:
    """The control-plane settings a run used that shape its figures (none of them secret)."""
    shaping = (
        "CP_ARM_WRITE_BUDGET", "CP_ARM_WRITES_PER_SECOND", "CP_ARM_WRITE_BURST", "CP_ARM_BUDGET_BLOCK",
        "CP_ARM_BUDGET_HORIZON_SECONDS", "CP_ARM_BUDGET_BULK_HORIZON_SECONDS", "CP_ARM_POLLING_INTERVAL_SECONDS",
        "CP_READINESS_PROBE_INTERVAL_SECONDS", "CP_ROLLOUT_POLL_SECONDS", "PYTHON_THREADPOOL_THREAD_COUNT",
    )  # fmt: skip
    return {**{k: settings[k] for k in shaping if k in settings}, **more}
