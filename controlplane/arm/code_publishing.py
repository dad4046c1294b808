"""Publish the code for a deploy_ref to a twin's existing Function App: one step, both hosting kinds.

Kept apart from building the app so that updating a running twin to another deploy_ref (rollouts)
is this same call. Idempotent: Durable runs an activity at least once.

* Linux Consumption: run-from-package, as ``config-zip`` does (``run_from_package``); done at once.
* Flex Consumption: One Deploy (``one_deploy``). A deployment (a remote build: minutes) outlasts any
  activity worth holding, so one call starts it and each later call asks its status once, handing back
  what it has seen (``following``) for the orchestration to carry to the next call after a durable
  timer; a deployment that failed because the app's fresh role assignment had not taken effect yet
  asks to be started again after a wait.

The control plane's identity needs no data-plane role for either: the Consumption SAS is signed with
the account key read through ARM (``listKeys``), and One Deploy's scm API takes the caller's ARM token,
as azd sends it (azure-dev funcapp_host_client.go) for a caller who may write the site. Both are
within Contributor on the twin's resource group.
"""

from __future__ import annotations

import logging

from controlplane.arm import one_deploy, run_from_package
from controlplane.arm.clients import ArmClients
from controlplane.arm.package_source import fetch_package
from controlplane.domain.naming import TwinNames
from controlplane.domain.runtime_targets import HostingKind, RuntimeTargetSpec
from controlplane.domain.step_errors import StepFailure
from controlplane.domain.step_outputs import Following, PublishOutcome  # what the workflow learns

logger = logging.getLogger(__name__)

# How long to wait before publishing again when the app's identity was refused by its storage.
ROLE_PROPAGATION_RETRY_SECONDS = 30.0


def publish_code(
    clients: ArmClients, names: TwinNames, spec: RuntimeTargetSpec, *, deploy_ref: str, package_url: str,
    following: Following | None = None,
) -> PublishOutcome:  # fmt: skip
    """Publish (Consumption: at once; Flex: start One Deploy), or ask once how the deployment ``following`` goes."""
    if spec.kind == HostingKind.LINUX_CONSUMPTION:
        with fetch_package(package_url) as package:
            run_from_package.publish(clients, names, deploy_ref=deploy_ref, package=package)
            return PublishOutcome(done=True, deploy_ref=deploy_ref, package_sha256=package.sha256)
    base_url = one_deploy.scm_base_url(clients, names)
    if following is None:
        with fetch_package(package_url) as package:
            deployment_id = one_deploy.begin(clients, base_url, package)
            sha256 = package.sha256
        logger.info("One Deploy %s of %s to %s started", deployment_id, deploy_ref, names.app_name)
        started = Following(deployment_id)
        return PublishOutcome(False, deploy_ref, deployment_id=deployment_id, package_sha256=sha256, following=started)
    return _follow(clients, names, deploy_ref, base_url, following)


def _follow(
    clients: ArmClients, names: TwinNames, deploy_ref: str, base_url: str, following: Following
) -> PublishOutcome:
    polled = one_deploy.poll(clients, base_url, following)
    state, deployment_id = polled.state, following.deployment_id
    if not state.done:
        return PublishOutcome(
            False, deploy_ref, deployment_id=deployment_id, following=polled.following,
            poll_after_seconds=polled.retry_after_seconds,
        )  # fmt: skip
    if state.succeeded:
        return PublishOutcome(True, deploy_ref, deployment_id=deployment_id)
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
