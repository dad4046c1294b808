"""Publish the code for a deploy_ref to a twin's existing Function App: one step, both hosting kinds.

Kept apart from building the app so that updating a running twin to another deploy_ref (rollouts)
is this same call. Idempotent: Durable runs an activity at least once.

* Linux Consumption: run-from-package, as ``config-zip`` does (``run_from_package``); done at once.
* Flex Consumption: One Deploy (``one_deploy``). A deployment may outlast one activity, so the step
  polls it for a while and hands back its id to be polled again; a deployment that failed because
  the app's fresh role assignment had not taken effect yet asks to be started again after a wait.

The control plane's identity needs no data-plane role for either: the Consumption SAS is signed with
the account key read through ARM (``listKeys``), and One Deploy's scm API takes the caller's ARM token,
as azd sends it (azure-dev funcapp_host_client.go) for a caller who may write the site. Both are
within Contributor on the twin's resource group.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from controlplane.arm import one_deploy, run_from_package
from controlplane.arm.clients import ArmClients
from controlplane.arm.package_source import fetch_package
from controlplane.domain.naming import BrainstemNames
from controlplane.domain.runtime_targets import HostingKind, RuntimeTargetSpec
from controlplane.domain.step_errors import StepFailure

logger = logging.getLogger(__name__)

# How long one activity follows a deployment before handing it back (well under any function timeout).
POLL_IN_ONE_ACTIVITY_SECONDS = 30.0
# How long to wait before publishing again when the app's identity was refused by its storage.
ROLE_PROPAGATION_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class PublishOutcome:
    """What the workflow learns: done, still deploying (poll ``deployment_id``), or wait and start again."""

    done: bool
    deploy_ref: str
    deployment_id: str | None = None
    package_sha256: str | None = None
    wait_seconds: float | None = None
    reason: str | None = None

    def to_result(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def publish_code(
    clients: ArmClients, names: BrainstemNames, spec: RuntimeTargetSpec, *, deploy_ref: str, package_url: str,
    deployment_id: str | None = None, poll_seconds: float = POLL_IN_ONE_ACTIVITY_SECONDS,
) -> PublishOutcome:  # fmt: skip
    if spec.kind == HostingKind.LINUX_CONSUMPTION:
        with fetch_package(package_url) as package:
            run_from_package.publish(clients, names, deploy_ref=deploy_ref, package=package)
            return PublishOutcome(done=True, deploy_ref=deploy_ref, package_sha256=package.sha256)
    return _one_deploy(clients, names, deploy_ref, package_url, deployment_id, poll_seconds)


def _one_deploy(
    clients: ArmClients, names: BrainstemNames, deploy_ref: str, package_url: str, deployment_id: str | None,
    poll_seconds: float,
) -> PublishOutcome:  # fmt: skip
    base_url = one_deploy.scm_base_url(clients, names)
    sha256 = None
    if deployment_id is None:
        with fetch_package(package_url) as package:
            deployment_id = one_deploy.begin(clients, base_url, package)
            sha256 = package.sha256
        logger.info("One Deploy %s of %s to %s started", deployment_id, deploy_ref, names.app_name)
    state = one_deploy.wait(clients, base_url, deployment_id, max_seconds=poll_seconds)
    if not state.done:
        return PublishOutcome(False, deploy_ref, deployment_id=deployment_id, package_sha256=sha256)
    if state.succeeded:
        return PublishOutcome(True, deploy_ref, deployment_id=deployment_id, package_sha256=sha256)
    if state.storage_forbidden:
        logger.info(
            "One Deploy %s to %s refused by storage; the app's roles may not apply yet", deployment_id, names.app_name
        )
        return PublishOutcome(
            False, deploy_ref, wait_seconds=ROLE_PROPAGATION_RETRY_SECONDS, reason=state.status_text or "forbidden"
        )
    raise StepFailure(
        "DeploymentFailed",
        f"One Deploy {deployment_id} of {deploy_ref} ended with status {state.status}: {state.status_text}",
    )
