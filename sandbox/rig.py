"""The whole control plane on loopback: Azurite + ARM stand-in + scm sites + brainstem hosts + Durable host.

Tests and the offline sandbox compose the same pieces: the unmodified ``function_app``, indexed and
invoked by Microsoft's Python worker (``sandbox.worker``: every HTTP call, replay and activity is a
worker invocation with the binding data the host sends), runs against real Azurite tables, the real
Azure SDK clients (over HTTPS to the ARM stand-in) and the real Durable replay code.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

import azure.functions as func

from controlplane.auth import hash_api_key
from sandbox.arm import ArmStandIn
from sandbox.brainstems import BrainstemHosts, site_exists_in
from sandbox.durable import DurableClientServer, OrchestrationDriver
from sandbox.durable.clock import Clock
from sandbox.durable.host_limits import HostLimits
from sandbox.events import EventReceiver
from sandbox.host_auth import DURABLE_SYSTEM_KEY_NAME, HostKeys, refusal
from sandbox.packages import PackageServer
from sandbox.scm import ScmSites
from sandbox.worker import app_durable_functions, app_worker
from sandbox.worker.http import invoke_http
from sandbox.worker.timer import fire_timer

SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
# Operator env keys given to every brainstem. The values stand for secrets: tests assert they never
# reach orchestration history, a row or a log line.
SECRET_ENV_KEYS = {
    "OPENAI_API_KEY": "sk-SANDBOX-SECRET-VALUE",
    "TWIN_SIGNING_KEY": "@Microsoft.KeyVault(SecretUri=https://kv/secret)",
}


def _sleep_in(clock: Clock) -> Callable[[float], None]:
    """Sleeping ``seconds`` of the driver's time: real seconds over its speed, or a virtual clock moved on."""
    import time
    from datetime import timedelta

    speed = getattr(clock, "speed", None)
    if speed:
        return lambda seconds: time.sleep(seconds / speed)
    return lambda seconds: clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]


def product_driver(**options: Any) -> OrchestrationDriver:
    """A Durable driver for the product's app (through the worker) whose time the ARM budget keeps too,
    as the rig's own driver does: what the budget books, this driver's timers wait for."""
    from controlplane.arm.budgets import set_budget_clock

    driver = OrchestrationDriver(app_durable_functions(), **options)
    clock = driver.clock
    set_budget_clock(lambda: clock.now().timestamp(), _sleep_in(clock))
    return driver


def reset_control_plane_caches() -> None:
    """Make the app re-read settings and rebuild its clients (after the environment changed)."""
    from controlplane.arm.clients import reset_clients
    from controlplane.events.eventgrid import reset_eventgrid_clients
    from controlplane.registry import reset_default_registry
    from controlplane.settings import get_settings

    get_settings.cache_clear()
    reset_clients()
    reset_eventgrid_clients()
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
        events: EventReceiver | None = None,
        durable_functions: Callable[[], Any] | None = None,
        limits: HostLimits | None = None,
    ) -> None:
        self.storage_connection = storage_connection
        self.table_name = table_name
        self.arm = arm or ArmStandIn()
        self.clock = clock
        self.extra_settings = dict(settings or {})
        self.activity_workers = activity_workers
        # The deployed app's concurrency (host.json × instances, functionTimeout, backend rate), when given.
        self.limits = limits
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
        # Lifecycle events on (an Event Grid topic stand-in and loopback callbacks) when given.
        self.events = events
        # Where orchestrations and activities run: the worker in this process, unless given (the
        # benchmark runs activities in several processes); called once the settings are in place.
        self.durable_functions = durable_functions or app_durable_functions
        self.brainstems: BrainstemHosts | None = None
        self.driver: OrchestrationDriver | None = None
        self.durable: DurableClientServer | None = None
        # The app's keys as the Functions host holds them: every HTTP call is checked against its
        # trigger's authLevel with these, before the worker sees it (sandbox.host_auth).
        self.host_keys = HostKeys()

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
        if self.events is not None:
            self.events.start()
        target = os.environ if environ is None else environ
        target.update(self.settings())
        reset_control_plane_caches()
        # The tables exist before the first request, as a deployment makes them (requests never do).
        from controlplane.registry import registry_from_settings
        from controlplane.settings import load_settings

        registry_from_settings(load_settings({**os.environ, **self.settings()})).create_table()
        self.driver = OrchestrationDriver(
            self.durable_functions(), clock=self.clock, activity_workers=self.activity_workers, limits=self.limits
        )
        self.durable = DurableClientServer(self.driver, task_hub="TwinStackControlPlane").start()
        if self.durable.code is not None:
            self.host_keys.system_keys[DURABLE_SYSTEM_KEY_NAME] = self.durable.code
        # The ARM budget books in the orchestrations' time (real time on Azure, the driver's here):
        # what it books, a durable timer waits for.
        from controlplane.arm.budgets import set_budget_clock

        driver_clock = self.driver.clock
        set_budget_clock(lambda: driver_clock.now().timestamp(), _sleep_in(driver_clock))
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
            # Soft delete off and the bulk guard wide open unless a test turns them on (settings=...):
            # most tests are about what a teardown does, not about when it may begin.
            "CP_DELETE_GRACE_SECONDS": "0",
            "CP_DELETE_RATE_LIMIT": "100000",
            # As deployed (infra/): activities block on ARM's long-running operations, so the worker
            # runs sync functions on the documented maximum of 32 threads, not min(32, CPUs + 4).
            "PYTHON_THREADPOOL_THREAD_COUNT": "32",
            **self._package_settings(),
            **self._event_settings(),
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

    def _event_settings(self) -> dict[str, str]:
        if self.events is None:
            return {}  # events off, as on an app with no topic configured
        return {
            "CP_EVENTGRID_ENDPOINT": self.events.topic_endpoint,
            "CP_EVENTGRID_CREDENTIAL": "sandbox",
            "CP_EVENTS_CA_BUNDLE": self.events.ca_path,
            "CP_CALLBACK_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CP_CALLBACK_SANDBOX_LOOPBACK": "true",
            "CP_CALLBACK_SIGNING_KEY": self.events.signing_key,
        }

    def call(self, function_name: str, request: func.HttpRequest) -> func.HttpResponse:
        """Invoke an HTTP function through the worker, as the host does (RpcHttp in, RpcHttp out).

        The host's key check comes first: a request the host would refuse gets its empty 401 and
        never reaches the function (sandbox.host_auth, FunctionInvocationMiddleware.cs).
        """
        assert self.durable is not None, "start() first"
        refused = refusal(self.host_keys, app_worker().function(function_name), request)
        if refused is not None:
            return refused
        return invoke_http(app_worker(), function_name, request, client_json=self.durable.client_binding_json())

    def fire_timer(self, function_name: str) -> None:
        """Run a timer-triggered function once through the worker, as its schedule would."""
        now = self.clock.now() if self.clock is not None else datetime.now(UTC)
        client_json = self.durable.client_binding_json() if self.durable is not None else None
        fire_timer(app_worker(), function_name, now=now, client_json=client_json)

    def stop(self) -> None:
        import time

        from controlplane.arm.budgets import set_budget_clock

        set_budget_clock(time.time)
        self.arm.release_holds()  # before the driver waits for its activities, which may be held in ARM
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
        if self.events is not None:
            self.events.stop()
        self.arm.stop()

    def __enter__(self) -> ControlPlaneRig:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
