"""A loopback stand-in for the brainstem package store (``CP_PACKAGE_URL_TEMPLATE``).

``GET /brainstems/<deploy_ref>.zip`` answers a small, real zip whose bytes depend only on the
deploy_ref (fixed timestamps), so a test can compute the sha256 the twin's deployment container
must end up holding. ``packages[ref] = b"..."`` serves given bytes instead; ``missing`` refs answer
404 and ``failures[ref] = n`` answers 503 that many times first. Plain http: the control plane
accepts an http template only for a loopback host.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PATH = re.compile(r"^/brainstems/([A-Za-z0-9][A-Za-z0-9._-]{0,63})\.zip$")


def brainstem_package(deploy_ref: str, *, built: bool = True, extra_files: dict[str, str] | None = None) -> bytes:
    """A deterministic brainstem package: same deploy_ref, same bytes.

    ``built`` (the default) vendors its requirement under ``.python_packages``, as a package for Linux
    Consumption must; ``extra_files`` adds or replaces files (an entry point importing more, say).

    Like a real brainstem it answers its readiness route (``/api/health``) with the deploy_ref it was
    built from, which it reads from its own ``brainstem.json``; the sandbox's brainstem hosts read that
    same file to answer for it.
    """
    files = {
        "host.json": '{"version": "2.0"}\n',
        "brainstem.json": json.dumps({"deploy_ref": deploy_ref}) + "\n",
        "function_app.py": (
            "import json\nimport pathlib\n\nimport azure.functions as func\n\napp = func.FunctionApp()\n"
            "MANIFEST = json.loads((pathlib.Path(__file__).parent / 'brainstem.json').read_text())\n\n\n"
            '@app.route(route="health", auth_level=func.AuthLevel.ANONYMOUS)\n'
            "def health(req: func.HttpRequest) -> func.HttpResponse:\n"
            '    body = json.dumps({"status": "ok", "deploy_ref": MANIFEST["deploy_ref"]})\n'
            '    return func.HttpResponse(body, mimetype="application/json")\n'
        ),
        "requirements.txt": "azure-functions\n",
    }
    if built:
        # What `pip install --target .python_packages/lib/site-packages -r requirements.txt` leaves: the
        # distribution's files and its dist-info (a Linux Consumption package is run as-is, unbuilt).
        site = ".python_packages/lib/site-packages/"
        files[site + "azure/functions/__init__.py"] = "# azure-functions, vendored by the build\n"
        files[site + "azure_functions-2.3.0.dist-info/METADATA"] = (
            "Metadata-Version: 2.1\nName: azure-functions\nVersion: 2.3.0\n"
        )
        files[site + "azure_functions-2.3.0.dist-info/top_level.txt"] = "azure\n"
    files.update(extra_files or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


class PackageServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.packages: dict[str, bytes] = {}
        self.missing: set[str] = set()
        self.failures: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, payload = server._answer(self.path.split("?", 1)[0])
                self.send_response(status)
                self.send_header("Content-Type", "application/zip" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="package-server", daemon=True)

    def package(self, deploy_ref: str) -> bytes:
        """The bytes served for ``deploy_ref``."""
        return self.packages.get(deploy_ref) or brainstem_package(deploy_ref)

    def _answer(self, path: str) -> tuple[int, bytes]:
        match = _PATH.match(path)
        if not match:
            return 404, b"no such package"
        deploy_ref = match.group(1)
        with self._lock:
            self.hits[deploy_ref] = self.hits.get(deploy_ref, 0) + 1
            if deploy_ref in self.missing:
                return 404, b"no such package"
            if self.failures.get(deploy_ref, 0) > 0:
                self.failures[deploy_ref] -= 1
                return 503, b"try again"
        return 200, self.package(deploy_ref)

    @property
    def url_template(self) -> str:
        """The CP_PACKAGE_URL_TEMPLATE that points the control plane here."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/brainstems/{{deploy_ref}}.zip"

    def start(self) -> PackageServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PackageServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
