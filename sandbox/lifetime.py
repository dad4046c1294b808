"""Children that end when their parent ends, however it ends (SIGKILL included).

Linux's ``prctl(PR_SET_PDEATHSIG, sig)`` (man 2 prctl) asks the kernel to send ``sig`` to the child
the moment its parent dies; the setting survives ``execve`` (it is cleared only for set-user-ID
programs), so it holds for ``node`` running Azurite. It is set in the child between fork and exec
(``preexec_fn``), then the child checks its parent is still the one that forked it: if the parent
died before the call, the signal would never come, so the child leaves at once.

One caveat of the kernel's rule: "parent" is the *thread* that forked. Start such children from a
thread that lives as long as they should (the main thread, as the sandbox, ``make test`` and the test
fixtures do).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties the child's life to this process (None where Linux's prctl is absent)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def in_child() -> None:
        if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the parent died before the call: no signal will come
            os._exit(0)

    return in_child
