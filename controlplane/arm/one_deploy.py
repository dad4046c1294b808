"""Publishing code to a Flex Consumption app through One Deploy, as the Azure CLI and azd do.

The protocol, from Microsoft's own clients:

* ``POST https://{scm host}/api/publish?RemoteBuild=true`` with the zip as ``application/zip`` and an
  ARM bearer token; **202** with the deployment id (a JSON string) as the body; **409** while another
  deployment runs. (azure-dev cli/azd/pkg/azsdk/funcapp_host_client.go ``Publish``; azure-cli
  appservice/custom.py ``enable_zip_deploy_flex``, which asks for a remote build for Python.)
* ``GET https://{scm host}/api/deployments/{id}`` answers 200 (sometimes 202) while running *and* when
  done; its ``status`` decides: -1 cancelled, 0 pending, 1 building, 2 deploying, 3 failed, 4 success,
  5 conflict, 6 partial success; ``status_text`` says why. A 404 after an earlier answer means the
  deployment worker was recycled after finishing (funcapp_host_client.go ``waitForDeployment``, polled
  every second "as recommended by the service team").
* The scm host is the site's repository host name (azure-cli ``_get_scm_url``: the
  ``hostNameSslStates`` entry of type Repository).

The platform writes the package into the app's deployment container *with the app's identity*, so a
deployment started before a fresh role assignment takes effect fails with Storage's 403 (reported in
the deployment's own text, e.g. Azure/azure-functions-core-tools#4346); that case is told apart so the
workflow can wait it out and publish again instead of failing the twin.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from controlplane.arm.clients import ArmClients
from controlplane.arm.package_source import Package
from controlplane.domain.naming import BrainstemNames
from controlplane.domain.step_errors import StepFailure, shorten
from controlplane.settings import get_settings

REQUEST_TIMEOUT_SECONDS = 120
POLL_EVERY_SECONDS = 1.0  # azd's cadence, "recommended by the service team"
SUCCESS, FAILED = 4, 3
_FINAL_FAILURES = {-1: "cancelled", FAILED: "failed", 5: "cancelled by another deployment", 6: "partially successful"}
# Storage's refusal of the app's identity, as the deployment reports it ("... 403 (This request is not
# authorized to perform this operation.)").
_STORAGE_FORBIDDEN = re.compile(r"\b403\b|AuthorizationPermissionMismatch|AuthorizationFailure")


@dataclass(frozen=True)
class DeploymentState:
    deployment_id: str
    done: bool
    succeeded: bool = False
    status: int | None = None
    status_text: str = ""

    @property
    def storage_forbidden(self) -> bool:
        """The deployment failed because the app's identity may not write its container (yet)."""
        return self.done and not self.succeeded and bool(_STORAGE_FORBIDDEN.search(self.status_text))


def scm_base_url(clients: ArmClients, names: BrainstemNames) -> str:
    site = clients.web.web_apps.get(names.resource_group, names.app_name)
    repository = [s.name for s in site.host_name_ssl_states or [] if str(s.host_type).lower().endswith("repository")]
    enabled = [h for h in site.enabled_host_names or [] if ".scm." in h]
    hosts = repository or enabled
    if not hosts:
        raise StepFailure("ScmSiteMissing", f"site {names.app_name} reports no scm host yet", transient=True)
    return get_settings().scm_url(scm_host=str(hosts[0]), app_name=names.app_name)


def begin(clients: ArmClients, base_url: str, package: Package) -> str:
    """POST the package; return the deployment id."""
    package.file.seek(0)
    response = requests.post(
        f"{base_url}/api/publish",
        params={"RemoteBuild": "true", "Deployer": "twinstack_control_plane"},
        data=package.file,
        headers={**_auth(clients), "Content-Type": "application/zip", "Accept": "application/json"},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    if response.status_code == 409:
        raise StepFailure(
            "DeploymentInProgress", "another deployment to this app is running", status=409, transient=True
        )
    if response.status_code != 202:
        raise StepFailure(
            "PublishRefused",
            f"One Deploy answered {response.status_code}: {shorten(response.text, 300)}",
            status=response.status_code,
            transient=response.status_code in (408, 429) or response.status_code >= 500,
        )
    deployment_id = response.json()
    if not isinstance(deployment_id, str) or not deployment_id:
        raise StepFailure("PublishRefused", "One Deploy accepted the package but named no deployment", status=202)
    return deployment_id


def wait(
    clients: ArmClients, base_url: str, deployment_id: str, *, max_seconds: float,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
) -> DeploymentState:  # fmt: skip
    """Poll the deployment for up to ``max_seconds``; its state then (done or not)."""
    deadline, last = clock() + max_seconds, None
    while True:
        state = _poll(clients, base_url, deployment_id, last)
        if state.done or clock() + POLL_EVERY_SECONDS > deadline:
            return state
        last = state
        sleep(POLL_EVERY_SECONDS)


def _poll(clients: ArmClients, base_url: str, deployment_id: str, last: DeploymentState | None) -> DeploymentState:
    response = requests.get(
        f"{base_url}/api/deployments/{deployment_id}", headers=_auth(clients), timeout=REQUEST_TIMEOUT_SECONDS
    )
    if response.status_code == 404 and last is not None:
        # The worker recycled after finishing: azd takes the last answer as final.
        return DeploymentState(deployment_id, done=True, succeeded=True, status=last.status)
    if response.status_code not in (200, 202):
        raise StepFailure(
            "DeploymentStatusUnavailable",
            f"the deployment status answered {response.status_code}",
            status=response.status_code,
            transient=True,
        )
    try:
        body = response.json()
    except json.JSONDecodeError as exc:
        raise StepFailure("DeploymentStatusUnavailable", "the deployment status was not JSON", transient=True) from exc
    status = int(body.get("status", 0))
    text = str(body.get("status_text") or body.get("message") or "")
    if status == SUCCESS:
        return DeploymentState(deployment_id, done=True, succeeded=True, status=status, status_text=text)
    if status in _FINAL_FAILURES:
        text = text or _FINAL_FAILURES[status]
        return DeploymentState(deployment_id, done=True, status=status, status_text=text)
    return DeploymentState(deployment_id, done=False, status=status, status_text=text)


def _auth(clients: ArmClients) -> dict[str, str]:
    return {"Authorization": f"Bearer {clients.bearer_token()}"}
