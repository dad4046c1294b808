"""A persistent asyncio loop in a background thread, and the SDK's shared HTTP session.

``DurableOrchestrationClient`` sends every call through one module-global ``aiohttp.ClientSession``
(``azure.durable_functions.models.utils.http_utils._client_session``) created on first use and bound
to the event loop that was running then. Calling the client from a second loop (a second
``asyncio.run``, a second test) fails inside aiohttp. The robust fix is one long-lived loop that runs
every async function invocation (``BackgroundLoop``); :func:`reset_sdk_http_session` is the fallback
for code that insists on its own loops.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    """An event loop running forever in a daemon thread; submit coroutines from any other thread."""

    def __init__(self, name: str = "durable-sandbox-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run to completion and return the result; must not be called from the loop's own thread."""
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("BackgroundLoop.run called from its own thread; await the coroutine instead")
        return self.submit(coroutine).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return

        async def _shutdown() -> None:
            from azure.durable_functions.models.utils import http_utils

            session = http_utils._client_session
            if session is not None and getattr(session, "_loop", None) is asyncio.get_running_loop():
                await reset_sdk_http_session()

        try:
            self.submit(_shutdown()).result(5)
        except Exception:  # noqa: BLE001 - best effort: the loop is going away either way
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


_shared_loop: BackgroundLoop | None = None
_shared_lock = threading.Lock()


def shared_loop() -> BackgroundLoop:
    """The process-wide loop for async function invocations (created on first use, closed at exit)."""
    global _shared_loop
    with _shared_lock:
        if _shared_loop is None or _shared_loop.loop.is_closed():
            _shared_loop = BackgroundLoop()
            atexit.register(_shared_loop.close)  # closes the SDK's session cleanly at exit
        return _shared_loop


async def reset_sdk_http_session() -> None:
    """Close and forget the SDK's global aiohttp session (and its loop-bound lock).

    Await it on the loop that used the session; the next client call then creates a fresh session on
    whatever loop it runs in.
    """
    from azure.durable_functions.models.utils import http_utils

    session = http_utils._client_session
    http_utils._client_session = None
    http_utils._session_lock = asyncio.Lock()
    if session is not None and not session.closed:
        await session.close()


def forget_sdk_http_session() -> None:
    """Synchronous variant for use between ``asyncio.run`` calls: drop the session without closing it."""
    from azure.durable_functions.models.utils import http_utils

    http_utils._client_session = None
    http_utils._session_lock = asyncio.Lock()
