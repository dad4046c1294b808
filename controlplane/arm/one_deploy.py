"""Publishing code to a Flex Consumption app through One Deploy, as the Azure CLI and azd do.

The protocol, from Microsoft's own clients:

* ``POST https://{scm host}/api/publish?RemoteBuild=true`` with the zip as ``application/zip`` and an
  ARM bearer token; **202** with the deployment id (a JSON string) as the body; **409** while another
  deployment runs. (azure-dev cli/azd/pkg/azsdk/funcapp_host_client.go ``Publish``; azure-cli
  appservice/custom.py ``enable_zip_deploy_flex``, which asks for a remote build for Python.)
* ``GET https://{scm host}/api/deployments/{id}`` answers 200 (sometimes 202) while running *and* when
  done; its ``status`` decides: -1 cancelled, 0 pending, 1 building, 2 deploying, 3 failed, 4 success,
  5 conflict, 6 partial success; ``status_text`` says why. Early 404s come while the deployment comes
  alive; a 404 after an earlier answer means the deployment worker was recycled after finishing;
  ``Retry-After``, when sent, says when to ask again (funcapp_host_client.go ``waitForDeployment``).
  azd asks every second inside one process; here each GET is one short activity (``poll``) and the
  orchestration waits between them on durable timers, carrying what was seen (``Following``), so a
  remote build that takes minutes holds no activity slot.
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
from dataclasses import dataclass, replace
from typing import Any

import requests

from controlplane.arm.clients import ArmClients
from controlplane.arm.package_source import Package
from controlplane.domain.naming import TwinNames
from controlplane.domain.step_errors import StepFailure, shorten
from controlplane.domain.step_outputs import Following  # travels in the orchestration: a domain shape
from controlplane.settings import get_settings

REQUEST_TIMEOUT_SECONDS = 120
# Early 404s waited out before a deployment counts as not found: azd's ``deploymentNotFoundAttempts <= 3``
# lets four through and fails on the fifth.
EARLY_NOT_FOUND_LIMIT = 4
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


def scm_base_url(clients: ArmClients, names: TwinNames) -> str:
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


@dataclass(frozen=True)
class Poll:
    """One status GET's outcome: the deployment's state, what to carry to the next poll, and the
    Retry-After the scm site asked for (None: it asked for nothing)."""

    state: DeploymentState
    following: Following
    retry_after_seconds: float | None = None


def poll(clients: ArmClients, base_url: str, following: Following) -> Poll:
    """One GET of the deployment's status, judged as azd's ``waitForDeployment`` judges it:

    * a 404 before any answer: the deployment is still coming alive; up to ``EARLY_NOT_FOUND_LIMIT``
      of them are waited out, the next one means there is no such deployment (azd's
      ``deploymentNotFoundAttempts <= 3``);
    * a 404 after an answer: the deployment worker was recycled after finishing ("we assume the
      deployment is complete and return the last response");
    * 200 or 202: the body's ``status`` decides; ``Retry-After``, when sent, is when to ask again.
    """
    deployment_id = following.deployment_id
    response = requests.get(
        f"{base_url}/api/deployments/{deployment_id}", headers=_auth(clients), timeout=REQUEST_TIMEOUT_SECONDS
    )
    if response.status_code == 404:
        if following.answered:
            done = DeploymentState(deployment_id, done=True, succeeded=True, status=following.last_status)
            return Poll(done, following)
        if following.not_found < EARLY_NOT_FOUND_LIMIT:
            waiting = DeploymentState(deployment_id, done=False)
            return Poll(waiting, replace(following, not_found=following.not_found + 1))
        raise StepFailure(
            "DeploymentNotFound",
            f"One Deploy {deployment_id} was still not found after {EARLY_NOT_FOUND_LIMIT + 1} status requests",
            status=404,
        )
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
    state = _state(deployment_id, body)
    seen = replace(following, answered=True, last_status=state.status)
    return Poll(state, seen, _retry_after(response.headers.get("Retry-After")))


def _state(deployment_id: str, body: dict[str, Any]) -> DeploymentState:
    status = int(body.get("status", 0))
    text = str(body.get("status_text") or body.get("message") or "")
    if status == SUCCESS:
        return DeploymentState(deployment_id, done=True, succeeded=True, status=status, status_text=text)
    if status in _FINAL_FAILURES:
        text = text or _FINAL_FAILURES[status]
        return DeploymentState(deployment_id, done=True, status=status, status_text=text)
    return DeploymentState(deployment_id, done=False, status=status, status_text=text)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (RFC 9110 also allows an HTTP date; the scm site sends seconds, as azd reads it)."""
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds > 0 else None


def _auth(clients: ArmClients) -> dict[str, str]:
    return {"Authorization": f"Bearer {clients.bearer_token()}"}
