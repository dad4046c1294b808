"""A loopback stand-in for every brainstem's URL (``https://twin-N-hash6.azurewebsites.net``).

Callers reach ``http://127.0.0.1:PORT/<app_name>/<path>``. With the ARM stand-in's platform state
(``platform``) a brainstem behaves like a Function App's front end:

* no site of that name: 502, as a front end with no backend;
* the root URL: the Functions landing page (200, no code needed) unless the app setting
  ``AzureWebJobsDisableHomepage`` is ``true`` (Learn: App settings reference), then 404;
* the readiness route (``readiness_path``): 404 until a package is in place — for Flex, the package
  One Deploy put in place (scm stand-in); for Linux Consumption, the zip ``WEBSITE_RUN_FROM_PACKAGE``
  points at, fetched through its URL (so a SAS Azurite refuses means a host that cannot start: 503) —
  then 200 ``{"status": "ok", "deploy_ref": <the package's brainstem.json>}``;
* a Linux Consumption package runs as-is (no build): when ``function_app.py`` imports a module the zip
  does not carry (``sandbox/python_imports.py``), the worker cannot index the app, so the host runs with
  no functions: the readiness route answers 404 like any route with no function behind it, and never
  turns ready; ``indexing_errors`` holds what the host logs (``_no_functions_indexed`` says where each
  step comes from);
* after each new package, ``cold_start_seconds`` of 503 while the host starts (``boot_failures`` /
  ``cold_starts`` add that many 503 answers more, like a cold Consumption app).

Without ``platform`` (an ARM stand-in in another process) only ``exists`` is known: every path of an
existing app answers 200 with no deploy_ref.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.arm.platform import PlatformView
from sandbox.python_imports import missing_imports
from sandbox.scm import package_deploy_ref

LANDING_PAGE = {"page": "Your Functions 4.0 app is up and running"}


class BrainstemHosts:
    def __init__(
        self, exists: Callable[[str], bool] | None = None, *, platform: PlatformView | None = None,
        readiness_path: str = "/api/health", cold_start_seconds: float = 0.0, cold_starts: int = 0,
        clock: Callable[[], float] = time.monotonic, host: str = "127.0.0.1", port: int = 0,
    ) -> None:  # fmt: skip
        if exists is None and platform is None:
            raise ValueError("BrainstemHosts needs exists= or platform=")
        self.exists = exists
        self.platform = platform
        self.readiness_path = readiness_path.rstrip("/")
        self.cold_start_seconds = cold_start_seconds
        self.clock = clock
        # Answers of 503 a new app gives before it is up, per app (default: ``cold_starts``).
        self.cold_starts = cold_starts
        self.boot_failures: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        self.imposed: dict[str, float] = {}  # app name -> seconds of cold start imposed
        # A test's fault: app name -> [deploy_ref, answers left]; once those answers are given, the app
        # running that deploy_ref answers 503 as a front end whose host went down (see silence_after).
        self.silenced: dict[str, list[Any]] = {}
        self._started: dict[str, tuple[str, float]] = {}  # app name -> (package key, when it was first seen)
        self._packages: dict[str, str | None] = {}  # package URL -> deploy_ref (a fetched URL is not fetched again)
        self._missing: dict[str, list[str]] = {}  # package URL -> modules its entry point cannot import
        self.indexing_errors: dict[str, str] = {}  # app name -> the host's log line when indexing failed
        self._lock = threading.Lock()
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                app_name, _, rest = self.path.split("?", 1)[0].strip("/").partition("/")
                status, body = hosts._answer(app_name, "/" + rest)
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

    def _answer(self, app_name: str, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.hits[app_name] = self.hits.get(app_name, 0) + 1
        if self.platform is None:
            if not app_name or not self.exists or not self.exists(app_name):
                return 502, {"error": f"no app {app_name or '(none)'} behind this host"}
            return self._after_boot(app_name) or (200, {"brainstem": app_name, "status": "ok"})
        site = self.platform.site(app_name) if app_name else None
        if site is None:
            return 502, {"error": f"no app {app_name or '(none)'} behind this host"}
        settings = self.platform.app_settings(site)
        package = self._package(site, settings)
        if package == "unreadable":
            return 503, {"error": "Function host is not running."}
        if package is not None:
            booting = self._cold_start(app_name, package) or self._after_boot(app_name)
            if booting:
                return booting
        if path.rstrip("/") == "":
            if settings.get("AzureWebJobsDisableHomepage", "").lower() == "true":
                return 404, {"error": "Not Found"}
            return 200, LANDING_PAGE
        if package is None or path.rstrip("/") != self.readiness_path:
            return 404, {"error": "Not Found"}
        if self._gone_silent(app_name, package[1]):
            return 503, {"error": "Function host is not running."}
        if missing := self._missing.get(package[0]):
            return self._no_functions_indexed(app_name, missing[0])
        return 200, {"status": "ok", "deploy_ref": package[1]}

    def _no_functions_indexed(self, app_name: str, module: str) -> tuple[int, dict[str, Any]]:
        """A host whose Python worker could not index ``function_app.py``: no function, so no route.

        Linux Consumption twins run Python 3.11 (controlplane/domain/runtime_targets.py), whose worker is
        azure-functions-python-worker. It imports ``function_app.py`` to index it and, when that raises, answers the host's
        FunctionsMetadataRequest with a failure and no function metadata (Azure/azure-functions-python-worker
        azure_functions_worker/dispatcher.py, ``_handle__functions_metadata_request``: the stored
        ``_function_metadata_exception`` becomes ``StatusResult.Failure``). The host logs "Worker failed
        to index functions" and builds its functions only from the metadata it got (Azure/azure-functions-host
        src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs, ``ProcessFunctionMetadataResponses``), so
        the app runs with none and a request to a function's route finds nothing: 404, as for any path
        that is no function. The exception text is Learn's ("Troubleshoot Python errors in Azure
        Functions": "Exception: ModuleNotFoundError: No module named 'module_name'."); it reaches the
        host's logs, never the caller. (Before this, the stand-in answered 500 with that text: no
        Microsoft source has the host answer so.)
        """
        with self._lock:
            self.indexing_errors[app_name] = (
                f"Worker failed to index functions: Exception: ModuleNotFoundError: No module named '{module}'."
            )
        return 404, {"error": "Not Found"}

    def silence_after(self, app_name: str, deploy_ref: str, answers: int) -> None:
        """Make ``app_name`` answer its readiness route ``answers`` more times on ``deploy_ref``, then stop
        (503) for as long as it runs that version: a release that starts, then dies (a test's fault)."""
        with self._lock:
            self.silenced[app_name] = [deploy_ref, answers]

    def _gone_silent(self, app_name: str, deploy_ref: str | None) -> bool:
        with self._lock:
            fault = self.silenced.get(app_name)
            if fault is None or fault[0] != deploy_ref:
                return False
            if fault[1] > 0:
                fault[1] -= 1
                return False
            return True

    def _package(self, site: dict[str, Any], settings: dict[str, str]) -> Any:
        """(key, deploy_ref) of the package the app runs; None before there is one; "unreadable" if it cannot load."""
        assert self.platform is not None
        if self.platform.is_flex(site):
            deployment = self.platform.active_deployment(site)
            return (deployment["deployment_id"], deployment["deploy_ref"]) if deployment else None
        url = settings.get("WEBSITE_RUN_FROM_PACKAGE")
        if not url:
            return None
        with self._lock:
            known = url in self._packages
        if not known:
            # urllib, not requests: urllib3 would log the URL, SAS and all, at DEBUG.
            try:
                with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback Azurite URL
                    content = response.read()
            except (urllib.error.URLError, OSError):
                return "unreadable"  # the host cannot read its package (a refused SAS): it does not start
            with self._lock:
                self._packages[url] = package_deploy_ref(content)
                self._missing[url] = missing_imports(content)
        return (url, self._packages[url])

    def _cold_start(self, app_name: str, package: tuple[str, str | None]) -> tuple[int, dict[str, Any]] | None:
        now = self.clock()
        with self._lock:
            key, since = self._started.get(app_name, ("", now))
            if key != package[0]:
                self._started[app_name] = (package[0], now)
                self.imposed[app_name] = self.imposed.get(app_name, 0.0) + self.cold_start_seconds
                since = now
        return (503, {"error": "starting"}) if now - since < self.cold_start_seconds else None

    def _after_boot(self, app_name: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            self.boot_failures.setdefault(app_name, self.cold_starts)
            if self.boot_failures.get(app_name, 0) > 0:
                self.boot_failures[app_name] -= 1
                return 503, {"error": "starting"}
        return None

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
