"""A loopback stand-in for the Log Analytics query API, reached by Microsoft's own LogsQueryClient.

The wire shape is Microsoft's (azure-rest-api-specs,
specification/operationalinsights/data-plane/Microsoft.OperationalInsights/stable/v1/OperationalInsights.json
and its example examples/oms-post-example.json):

* ``POST /v1/workspaces/{workspaceId}/query`` with a JSON ``queryBody`` — ``query`` required,
  ``timespan`` an ISO 8601 period, ``workspaces`` optional — answers 200 ``queryResults``:
  ``{"tables": [{"name": "PrimaryResult", "columns": [{"name", "type"}], "rows": [[...]]}]}``;
* any error answers the spec's ``errorResponse``: ``{"error": {"code", "message"}}``.

What it refuses, as the service would: no bearer token (401, the API's ``azure_auth`` OAuth2
security), a body without ``query`` (400 ``BadArgumentError``), a path other than the query
operation (404 ``PathNotFoundError``), a workspace it does not hold (404 ``WorkspaceNotFoundError``).
The answer to a query is what the test sets for that workspace (``set_error_rate``): KQL is not
evaluated here, only carried, and every query is recorded so a test sees what was asked.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.arm.messages import Reply
from sandbox.arm.transport import Handler, TlsServer, certificate_authority

_QUERY_PATH = re.compile(r"/v1/workspaces/(?P<workspace>[^/?]+)/query(\?.*)?")


@dataclass(frozen=True)
class AskedQuery:
    workspace_id: str
    query: str
    timespan: str | None
    authorization: str


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


class LogsQueryStandIn:
    def __init__(self) -> None:
        self.asked: list[AskedQuery] = []
        self._rates: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server: TlsServer | None = None
        self._directory: Path | None = None

    def set_error_rate(self, workspace_id: str, rate: float) -> None:
        """The number the workspace's queries answer (one row, one ``real`` column)."""
        with self._lock:
            self._rates[workspace_id.lower()] = rate

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        authorization = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not authorization.startswith("Bearer "):
            return _error(401, "AuthorizationRequiredError", "Valid authentication was not provided")
        match = _QUERY_PATH.fullmatch(path)
        if method != "POST" or match is None:
            return _error(404, "PathNotFoundError", f"The requested path does not exist: {method} {path}")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "BadArgumentError", "The request body is not JSON")
        if not isinstance(request, dict) or not isinstance(request.get("query"), str) or not request["query"]:
            return _error(400, "BadArgumentError", "The request had some invalid properties: query is required")
        workspace = match["workspace"].lower()
        with self._lock:
            self.asked.append(AskedQuery(workspace, request["query"], request.get("timespan"), authorization))
            rate = self._rates.get(workspace)
        if rate is None:
            return _error(404, "WorkspaceNotFoundError", f"The workspace {workspace} could not be found")
        table = {"name": "PrimaryResult", "columns": [{"name": "error_rate", "type": "real"}], "rows": [[rate]]}
        return Reply(200, {"tables": [table]})

    def start(self) -> LogsQueryStandIn:
        authority = certificate_authority()
        self._directory = Path(tempfile.mkdtemp(prefix="logs-standin-"))
        authority.cert_pem.write_to_path(str(self._directory / "ca.pem"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = TlsServer(("127.0.0.1", 0), Handler, context=context, stand_in=self)  # type: ignore[arg-type]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() first"
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_path(self) -> str:
        assert self._directory is not None, "start() first"
        return str(self._directory / "ca.pem")

    def settings(self) -> dict[str, str]:
        """The app settings that point the control plane's error-rate gates here."""
        return {"CP_LOGS_QUERY_ENDPOINT": self.endpoint, "CP_LOGS_QUERY_CA_BUNDLE": self.ca_path}

    def __enter__(self) -> LogsQueryStandIn:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
