"""A loopback stand-in for every Flex app's scm (Kudu) site: One Deploy and its status, as azd and the CLI see them.

``http://127.0.0.1:PORT/<app_name>`` stands for ``https://<app>.scm.azurewebsites.net``. The wire shapes
are the ones Microsoft's clients rely on (azure-dev cli/azd/pkg/azsdk/funcapp_host_client.go; azure-cli
appservice/custom.py ``enable_zip_deploy_flex``):

* ``POST /api/publish[?RemoteBuild=true]`` with an ARM bearer token and the zip as the body: **202**, the
  body the deployment id as a JSON string, ``Location`` its status URL; **409** while another runs;
  **401** without a token or with one for another audience; **404** for an app that is not a Flex app.
* ``GET /api/deployments/{id}`` (and ``/latest``): **200** with ``{id, status, status_text,
  complete, active, ...}``; ``status`` 0 pending, 1 building (RemoteBuild), 2 deploying, 3 failed, 4 success.
  Two 404s azd's ``waitForDeployment`` was written for, on request (attributes, settable while running):
  ``not_found_polls`` — a new deployment's first status requests answer 404 while it "comes alive"
  (azd retries them: "mitigation for deployments that take awhile to come alive"); ``recycle_when_done``
  — once the deployment has finished, its status answers 404, because "the deployment worker [was]
  recycled" (azd then takes the last answer as final). ``retry_after_seconds``: a ``Retry-After`` on
  the answers of a deployment still running (azd waits that long instead of its 1 s).

The deployment takes ``deploy_seconds``, then the platform writes the package into the app's deployment
container **with the app's identity**: unless that identity holds Storage Blob Data Owner or Contributor
on the account *and the grant has taken effect* (ArmStandIn ``role_propagation_seconds``), Storage says 403
and the deployment fails with that text (as Core Tools prints it, Azure/azure-functions-core-tools#4346).
On success the package becomes the app's active deployment (what brainstem hosts serve, and what lets a
trigger sync succeed), and its bytes land in Azurite as ``released-package.zip`` when a blob connection is given.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sandbox.arm.platform import PlatformView
from sandbox.tokens import ARM_AUDIENCES, bearer_claims

BLOB_WRITE_ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
}  # Owner, Contributor
FORBIDDEN_TEXT = (
    "Failed to upload blob package to storage account with Error: Response status code does not indicate "
    "success: 403 (This request is not authorized to perform this operation.)."
)


@dataclass
class Deployment:
    id: str
    app_name: str
    package: bytes
    remote_build: bool
    ready_at: float
    status_requests: int = 0
    status: int = 0
    status_text: str = ""
    complete: bool = False

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "status_text": self.status_text, "complete": self.complete,
            "active": self.complete and self.status == 4, "deployer": "OneDeploy", "site_name": self.app_name,
            "remoteBuild": self.remote_build, "is_temp": False, "is_readonly": True,
        }  # fmt: skip


def package_deploy_ref(package: bytes) -> str | None:
    """The deploy_ref a brainstem package names in its ``brainstem.json`` (None when it names none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            return str(json.loads(archive.read("brainstem.json"))["deploy_ref"])
    except (KeyError, ValueError, zipfile.BadZipFile):
        return None


class ScmSites:
    def __init__(
        self, platform: PlatformView, *, blob_connection: str | None = None, deploy_seconds: float = 0.0,
        clock: Callable[[], float] | None = None, host: str = "127.0.0.1", port: int = 0,
    ) -> None:  # fmt: skip
        self.platform = platform
        self.blob_connection = blob_connection
        self.deploy_seconds = deploy_seconds
        self.not_found_polls = 0
        self.recycle_when_done = False
        self.retry_after_seconds: int | None = None
        self.clock = clock or platform.now
        self.deployments: dict[str, Deployment] = {}
        self.imposed: dict[str, float] = {}  # resource group (lower-cased) -> seconds of deployment latency
        self._lock = threading.Lock()
        sites = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                self._send(*sites.publish(self.path, self.headers.get("Authorization"), self.rfile.read(length)))

            def do_GET(self) -> None:  # noqa: N802
                self._send(*sites.status(self.path, self.headers.get("Authorization")))

            def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                typed = {} if body is None else {"Content-Type": "application/json"}
                for name, value in {**typed, **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scm-sites", daemon=True)

    @property
    def url_template(self) -> str:
        """The CP_SCM_URL_TEMPLATE that points the control plane here."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{{app_name}}"

    def publish(self, path: str, authorization: str | None, body: bytes) -> tuple[int, object, dict[str, str]]:
        app_name, rest, query = _split(path)
        if not _bearer(authorization):
            return _UNAUTHORIZED
        site = self.platform.site(app_name)
        if rest != "api/publish" or site is None or not self.platform.is_flex(site):
            return 404, {"Message": f"No Flex Consumption app {app_name} here."}, {}
        with self._lock:
            if any(d.app_name == app_name and not d.complete for d in self.deployments.values()):
                return 409, {"Message": "There is a deployment currently in progress. Please try again."}, {}
            deployment = Deployment(
                id=str(uuid.uuid4()), app_name=app_name, package=body,
                remote_build="remotebuild=true" in query.lower(), ready_at=self.clock() + self.deploy_seconds,
            )  # fmt: skip
            self.deployments[deployment.id] = deployment
            group = site["id"].split("/")[4].lower()
            self.imposed[group] = self.imposed.get(group, 0.0) + self.deploy_seconds
        location = f"http://{self._server.server_address[0]}:{self._server.server_address[1]}/{app_name}/api/deployments/{deployment.id}"
        return 202, deployment.id, {"Location": location}

    def status(self, path: str, authorization: str | None) -> tuple[int, object, dict[str, str]]:
        app_name, rest, _ = _split(path)
        if not _bearer(authorization):
            return _UNAUTHORIZED
        with self._lock:
            mine = [d for d in self.deployments.values() if d.app_name == app_name]
            wanted = rest.removeprefix("api/deployments/")
            found = mine[-1] if wanted == "latest" and mine else next((d for d in mine if d.id == wanted), None)
            if found is None:
                return 404, {"Message": "Deployment not found."}, {}
            found.status_requests += 1
            if found.status_requests <= self.not_found_polls:  # not alive yet (azd's early-404 mitigation)
                return 404, {"Message": "Deployment not found."}, {}
            self._advance(found)
            if found.complete and self.recycle_when_done:  # the worker recycled: the deployment is gone
                return 404, {"Message": "Deployment not found."}, {}
            waiting = not found.complete and self.retry_after_seconds is not None
            return 200, found.wire(), {"Retry-After": str(self.retry_after_seconds)} if waiting else {}

    def _advance(self, deployment: Deployment) -> None:
        if deployment.complete:
            return
        if self.clock() < deployment.ready_at:
            deployment.status = 1 if deployment.remote_build else 2
            return
        site = self.platform.site(deployment.app_name)
        deployment.complete = True
        if site is None:
            deployment.status, deployment.status_text = 3, "The site no longer exists."
            return
        if not self._identity_may_write(site):
            deployment.status, deployment.status_text = 3, FORBIDDEN_TEXT
            return
        if not zipfile.is_zipfile(io.BytesIO(deployment.package)):
            deployment.status, deployment.status_text = 3, "The deployment package is not a valid zip file."
            return
        self._store_package(site, deployment.package)
        self.platform.record_deployment(
            site, {"deployment_id": deployment.id, "deploy_ref": package_deploy_ref(deployment.package),
                   "sha256": hashlib.sha256(deployment.package).hexdigest(), "at": self.clock()},
        )  # fmt: skip
        deployment.status, deployment.status_text = 4, "Deployment successful."

    def _identity_may_write(self, site: dict[str, Any]) -> bool:
        principal = (site.get("identity") or {}).get("principalId")
        container_url = (
            ((site["properties"].get("functionAppConfig") or {}).get("deployment") or {}).get("storage") or {}
        ).get("value", "")
        account = urlsplit(container_url).hostname or ""
        account_id = self.platform.storage_account_id(account.split(".", 1)[0])
        if not principal or not account_id:
            return False
        return self.platform.grant_effective(principal=principal, scope=account_id, role_ids=BLOB_WRITE_ROLES)

    def _store_package(self, site: dict[str, Any], package: bytes) -> None:
        if not self.blob_connection:
            return
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(self.blob_connection) as service:
            container = f"app-package-{site['name']}".lower()
            try:
                service.create_container(container)
            except ResourceExistsError:
                pass
            service.get_blob_client(container, "released-package.zip").upload_blob(package, overwrite=True)

    def start(self) -> ScmSites:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _split(path: str) -> tuple[str, str, str]:
    parts = urlsplit(path)
    app_name, _, rest = parts.path.strip("/").partition("/")
    return app_name, rest, parts.query


# The scm site's refusal of a caller it cannot authenticate: the status, and nothing more. Kudu itself
# checks no bearer token (projectkudu/kudu and Azure-App-Service/KuduLite hold no token validation:
# App Service authenticates scm requests before Kudu sees them; projectkudu/kudu wiki, "Accessing the
# kudu service": "The scm service requires authentication and authorization"), and no Microsoft
# source gives that front end's body for a token it refuses. What is sourced is the status: Learn,
# "Disable basic authentication in App Service deployments", a credential the scm site refuses gets
# 401, and Entra tokens "are specific to the applications and resources for which they're issued, so
# they can't be reused" (a token for another audience is no credential here). azd's FuncAppHostClient
# reads no body from a non-202 answer (runtime.NewResponseError), nor does the control plane.
# (Before this, the body was ASP.NET Web API's default "Authorization has been denied for this
# request." message: a guess, now dropped.)
_UNAUTHORIZED: tuple[int, object, dict[str, str]] = (401, None, {})


def _bearer(header: str | None) -> bool:
    """An Entra token for ARM's audience: what the scm site takes (azd's FuncAppHostClient sends the ARM
    token; sandbox/tokens.py). Another audience, or no JWT, is refused like no token at all."""
    claims = bearer_claims(header)
    return claims is not None and claims.get("aud") in ARM_AUDIENCES
