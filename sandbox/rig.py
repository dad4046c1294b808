"""The whole control plane on loopback: Azurite + ARM stand-in + scm sites + brainstem hosts + Durable host.

Tests and the offline sandbox compose the same pieces: the unmodified ``function_app`` runs its
HTTP functions, orchestrations and activities against real Azurite tables, the real Azure SDK
clients (over HTTPS to the ARM stand-in) and the real Durable replay code.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

import azure.functions as func

from controlplane.auth import hash_api_key
from sandbox.arm import ArmStandIn
from sandbox.brainstems import BrainstemHosts, site_exists_in
from sandbox.durable import DurableClientServer, OrchestrationDriver
from sandbox.durable.clock import Clock
from sandbox.packages import PackageServer
from sandbox.scm import ScmSites

SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
# Operator env keys given to every brainstem. The values stand for secrets: tests assert they never
# reach orchestration history, a row or a log line.
SECRET_ENV_KEYS = {
    "OPENAI_API_KEY": "sk-SANDBOX-SECRET-VALUE",
    "TWIN_SIGNING_KEY": "@Microsoft.KeyVault(SecretUri=https://kv/secret)",
}


@functools.lru_cache(maxsize=1)
def app_functions() -> dict[str, Any]:
    """function_app's functions by name. DFApp.get_functions() may run only once per process."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}


def reset_control_plane_caches() -> None:
    """Make the app re-read settings and rebuild its clients (after the environment changed)."""
    from controlplane.arm.clients import reset_clients
    from controlplane.registry import reset_default_registry
    from controlplane.settings import get_settings

    get_settings.cache_clear()
    reset_clients()
    reset_default_registry()


class ControlPlaneRig:
    def __init__(
        self,
        storage_connection: str,
        *,
        table_name: str = "brainstems",
        arm: ArmStandIn | None = None,
        clock: Clock | None = None,
        settings: Mapping[str, str] | None = None,
        activity_workers: int = 16,
        serve_packages: bool = True,
        operator_key: str | None = None,
        site_exists: Callable[[str], bool] | None = None,
        deploy_seconds: float = 0.0,
        cold_start_seconds: float = 0.0,
    ) -> None:
        self.storage_connection = storage_connection
        self.table_name = table_name
        self.arm = arm or ArmStandIn()
        self.clock = clock
        self.extra_settings = dict(settings or {})
        self.activity_workers = activity_workers
        # Every twin gets its deploy_ref's code: packages served from loopback (``serve_packages`` is
        # kept for callers that still pass it; publishing needs the packages either way).
        self.packages = PackageServer()
        self.deploy_seconds = deploy_seconds
        self.cold_start_seconds = cold_start_seconds
        self.scm: ScmSites | None = None
        # The operator API key this control plane accepts (only its hash goes into CP_AUTH).
        self.operator_key = operator_key or secrets.token_urlsafe(24)
        # How a brainstem's host answers: from the ARM stand-in's platform state (its site, settings and
        # published package), or, with ``site_exists`` (an ARM stand-in in another process), only whether it exists.
        self.site_exists = site_exists
        self.brainstems: BrainstemHosts | None = None
        self.driver: OrchestrationDriver | None = None
        self.durable: DurableClientServer | None = None

    def start(self, environ: MutableMapping[str, str] | None = None) -> ControlPlaneRig:
        self.arm.start()
        platform = getattr(self.arm, "platform", None)
        if platform is not None:
            self.scm = ScmSites(
                platform, blob_connection=self.storage_connection, deploy_seconds=self.deploy_seconds
            ).start()
        if self.site_exists is not None or platform is None:
            self.brainstems = BrainstemHosts(self.site_exists or site_exists_in(self.arm)).start()
        else:
            self.brainstems = BrainstemHosts(
                platform=platform, cold_start_seconds=self.cold_start_seconds, clock=platform.now
            ).start()
        self.packages.start()
        target = os.environ if environ is None else environ
        target.update(self.settings())
        reset_control_plane_caches()
        self.driver = OrchestrationDriver(
            list(app_functions().values()), clock=self.clock, activity_workers=self.activity_workers
        )
        self.durable = DurableClientServer(self.driver, task_hub="TwinStackControlPlane").start()
        return self

    def settings(self) -> dict[str, str]:
        assert self.brainstems is not None, "start() first"
        return {
            "AzureWebJobsStorage": self.storage_connection,
            "CP_REGISTRY_TABLE": self.table_name,
            "CP_SUBSCRIPTION_ID": SUBSCRIPTION_ID,
            "CP_ARM_ENDPOINT": self.arm.base_url,
            "CP_ARM_CREDENTIAL": "sandbox",
            "CP_ARM_CA_BUNDLE": self.arm.ca_path,
            "CP_ARM_POLLING_INTERVAL_SECONDS": "0",
            "CP_BRAINSTEM_URL_TEMPLATE": self.brainstems.url_template,
            "CP_ENV_KEYS": json.dumps(SECRET_ENV_KEYS),
            "CP_ACTIVITY_FIRST_RETRY_SECONDS": "1",
            "CP_ACTIVITY_MAX_ATTEMPTS": "3",
            "CP_READINESS_PROBE_INTERVAL_SECONDS": "5",
            "CP_READINESS_TIMEOUT_SECONDS": "120",
            "CP_TEARDOWN_POLL_INTERVAL_SECONDS": "5",
            **self._package_settings(),
            "CP_AUTH": json.dumps({"operator_key_hashes": [hash_api_key(self.operator_key)]}),
            **self.extra_settings,
        }

    def _package_settings(self) -> dict[str, str]:
        settings = {
            "CP_PACKAGE_URL_TEMPLATE": self.packages.url_template,
            "CP_SANDBOX_BLOB_CONNECTION": self.storage_connection,  # Azurite stands for every twin's account
        }
        if self.scm is not None:
            settings["CP_SCM_URL_TEMPLATE"] = self.scm.url_template
        return settings

    def call(self, function_name: str, request: func.HttpRequest) -> func.HttpResponse:
        """Invoke an HTTP function as the worker would (real HttpRequest, real Durable client)."""
        assert self.durable is not None, "start() first"
        return self.durable.invoke_http_function(app_functions()[function_name], request)

    def stop(self) -> None:
        if self.durable is not None:
            self.durable.close()
        if self.driver is not None:
            self.driver.close()
            close_clock = getattr(self.driver.clock, "close", None)
            if close_clock is not None:
                close_clock()
        if self.brainstems is not None:
            self.brainstems.stop()
        if self.scm is not None:
            self.scm.stop()
        self.packages.stop()
        self.arm.stop()

    def __enter__(self) -> ControlPlaneRig:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
