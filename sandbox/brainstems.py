"""A loopback stand-in for every brainstem's URL (``https://twin-N-hash6.azurewebsites.net``).

Readiness probes and callers reach ``http://127.0.0.1:PORT/<app_name>/``. A brainstem answers
only while its Function App exists (``exists(app_name)``, e.g. asked of the ARM stand-in): before
that, and after its group is deleted, the host answers 502 as a front end with no backend would.
``boot_failures`` makes a new app answer 503 a few times first, like a cold Consumption app.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BrainstemHosts:
    def __init__(
        self, exists: Callable[[str], bool], *, host: str = "127.0.0.1", port: int = 0, cold_starts: int = 0
    ) -> None:
        self.exists = exists
        # Answers of 503 a new app gives before it is up, per app (default: ``cold_starts``).
        self.cold_starts = cold_starts
        self.boot_failures: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                app_name = self.path.strip("/").split("/", 1)[0]
                status, body = hosts._answer(app_name)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the prober gave up waiting; a real front end would just log it

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="brainstem-hosts", daemon=True)

    def _answer(self, app_name: str) -> tuple[int, dict[str, object]]:
        with self._lock:
            self.hits[app_name] = self.hits.get(app_name, 0) + 1
            if not app_name or not self.exists(app_name):
                return 502, {"error": f"no app {app_name or '(none)'} behind this host"}
            self.boot_failures.setdefault(app_name, self.cold_starts)
            if self.boot_failures.get(app_name, 0) > 0:
                self.boot_failures[app_name] -= 1
                return 503, {"error": "starting"}
        return 200, {"brainstem": app_name, "status": "ok"}

    @property
    def url_template(self) -> str:
        """The CP_BRAINSTEM_URL_TEMPLATE that points the control plane here."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{{app_name}}/"

    def start(self) -> BrainstemHosts:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BrainstemHosts:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def site_exists_in(arm: object) -> Callable[[str], bool]:
    """``exists`` for BrainstemHosts: is there a Function App of that name in the ARM stand-in?"""

    def exists(app_name: str) -> bool:
        suffix = f"/providers/microsoft.web/sites/{app_name.lower()}"
        return any(resource_id.lower().endswith(suffix) for resource_id in arm.resources)  # type: ignore[attr-defined]

    return exists
