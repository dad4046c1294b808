"""``ArmStandIn``: lifecycle, the request pipeline, faults, the request log and views of state.

Every request goes through the same gate, in ARM's order: a bearer token for ARM's audience, api-version (present, and
one its provider publishes: api_versions.py), route, throttling, injected faults, latency, then the
provider handler under the state lock. The latency each request was made to wait is kept per resource
group (``imposed_latency``), so a benchmark can tell the control plane's own overhead from Azure's. Sleeps
(latency, "hang") happen outside the lock so a slow call never stalls the others.
"""

from __future__ import annotations

import copy
import functools
import math
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import api_versions, authorization, listing, locks, names, resource_groups, rights, storage, web
from .faults import Fault, FaultBook
from .gate import authenticate, parse_body
from .messages import ArmError, Call, RecordedRequest, Reply
from .platform import PlatformView
from .routing import UNKNOWN, match
from .store import ResourceStore
from .throttle import Throttle
from .transport import Handler, TlsServer, certificate_authority

# Routes the real service answers asynchronously: their latency is how long the operation stays
# InProgress. Every other route is synchronous and its latency is a sleep before answering.
_ASYNC_ROUTES = frozenset({"resource_groups.delete", "storage_accounts.create"})
_WEB_PUTS = frozenset({"server_farms.create_or_update", "sites.create_or_update"})


class ArmStandIn:
    """A loopback Azure Resource Manager for the real SDK clients; see the package docstring.

    ``latency`` maps a route or route prefix ("storage_accounts", "storage_accounts.create") to
    seconds — how long an asynchronous operation stays InProgress, or how long a synchronous answer
    sleeps — multiplied by ``latency_scale`` (mutable, like ``latency``, while running).
    ``throttle`` turns on ARM's token buckets. ``delete_polls`` / ``create_polls``: how many polls
    of a group deletion / account creation answer 202 before the operation ends.
    ``lro_retry_after`` fixes the Retry-After of 202s (default: whole seconds of latency left, so
    0 without latency — azure-core then waits its own ``polling_interval``).
    ``sync_triggers_status``: 200 as live Azure answers, 204 as the SDK expects.
    ``web_puts``: "sync" (plan and site PUTs answer 200) or "async" (202 + Azure-AsyncOperation,
    their latency becoming the operation's duration). ``role_propagation_seconds``: how long a new
    role assignment takes to apply to data-plane checks. ``flex_regions``: regions offering Flex.
    ``caller_rights``: what the caller may grant (rights.py; default: exactly the pool's grants in infra/).
    ``clock`` drives operation latency and role propagation (the throttle has its own).
    """

    def __init__(
        self,
        latency: Mapping[str, float] | None = None,
        throttle: Throttle | None = None,
        *,
        latency_scale: float = 1.0,
        delete_polls: int = 0,
        create_polls: int = 0,
        lro_retry_after: int | None = None,
        sync_triggers_status: int = 200,
        web_puts: str = "sync",
        role_propagation_seconds: float = 0.0,
        flex_regions: Mapping[str, str] | None = None,
        caller_rights: rights.CallerRights = rights.POOL_GRANTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if web_puts not in ("sync", "async"):
            raise ValueError("web_puts is 'sync' or 'async'")
        self.latency: dict[str, float] = dict(latency or {})
        self.latency_scale = latency_scale
        self.throttle = throttle
        self._store = ResourceStore(
            clock=clock,
            lro_retry_after=lro_retry_after,
            compressed_time=latency_scale < 1,
            all_regions=dict(names.ALL_REGIONS),
            flex_regions=dict(flex_regions if flex_regions is not None else names.FLEX_REGIONS),
            role_propagation_seconds=role_propagation_seconds,
        )
        self.platform = PlatformView(self._store)
        self._async_routes = _ASYNC_ROUTES | (_WEB_PUTS if web_puts == "async" else frozenset())
        self._imposed: dict[str, float] = {}
        self._faults = FaultBook()
        self._log: list[RecordedRequest] = []
        self._too_many: Counter[str] = Counter()
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: TlsServer | None = None
        self._thread: threading.Thread | None = None
        self._directory: Path | None = None
        self._handlers: dict[str, Callable[[ResourceStore, Call], Reply]] = {
            "resource_groups.create_or_update": resource_groups.create_or_update,
            "resource_groups.get": resource_groups.get,
            "resource_groups.list": listing.list_groups,
            "sites.list": listing.list_sites,
            "resource_groups.check_existence": resource_groups.check_existence,
            "resource_groups.delete": functools.partial(resource_groups.delete, polls_required=delete_polls),
            "operations.get": lambda store, call: store.poll(call.params["operation"]),
            "storage_accounts.create": functools.partial(storage.create, polls_required=create_polls),
            "storage_accounts.get": storage.get_properties,
            "storage_accounts.list_keys": storage.list_keys,
            "blob_containers.create": storage.create_container,
            "blob_containers.get": storage.get_container,
            "server_farms.create_or_update": functools.partial(
                web.create_or_update_farm, asynchronous=web_puts == "async"
            ),
            "server_farms.get": web.get_farm,
            "sites.create_or_update": functools.partial(web.create_or_update_site, asynchronous=web_puts == "async"),
            "sites.get": web.get_site,
            "sites.update_application_settings": web.update_application_settings,
            "sites.list_application_settings": web.list_application_settings,
            "sites.restart": web.restart,
            "sites.sync_function_triggers": functools.partial(web.sync_function_triggers, status=sync_triggers_status),
            "locks.create_or_update": locks.create_or_update,
            "locks.get": locks.get,
            "locks.delete": locks.delete,
            "role_assignments.create": functools.partial(authorization.create, rights=caller_rights),
            "role_assignments.get": authorization.get,
            "web_names.check": names.check_site_name,
            "storage_names.check": names.check_storage_name,
            "geo_regions.list": names.geo_regions,
        }

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> ArmStandIn:
        if self._server is not None:
            return self
        authority = certificate_authority()
        self._directory = Path(tempfile.mkdtemp(prefix="arm-standin-"))
        authority.cert_pem.write_to_path(str(self._directory / "ca.pem"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._stopping.clear()
        self._server = TlsServer(("127.0.0.1", 0), Handler, context=context, stand_in=self)
        self._store.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="arm-standin", daemon=True
        )
        self._thread.start()
        return self

    def release_holds(self) -> None:
        """Let every request held in a "hang" fault (or at a test's gate) answer now, and any later one too.

        A rig stops its Durable driver first, and the driver waits for its running activities: an
        activity whose ARM call is held at a gate the test never opened (it failed first) would wait
        for ever, and hide the failure behind a hung teardown.
        """
        self._stopping.set()

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes requests sleeping in a "hang" fault
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._server = self._thread = self._directory = None

    def __enter__(self) -> ArmStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the ARM stand-in is not started")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_path(self) -> str:
        if self._directory is None:
            raise RuntimeError("the ARM stand-in is not started")
        return str(self._directory / "ca.pem")

    # --- faults and the request log ------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()
            self._imposed.clear()

    @property
    def imposed_latency(self) -> dict[str, float]:
        """Seconds of latency imposed per resource group (lower-cased): sleeps and operation durations."""
        with self._log_lock:
            return dict(self._imposed)

    @property
    def throttled(self) -> dict[str, int]:
        """429s answered per route, by the token buckets or by injected faults."""
        with self._log_lock:
            return dict(self._too_many)

    # --- read-only views of state -----------------------------------------------------------------

    @property
    def resources(self) -> Mapping[str, dict[str, Any]]:
        """Every document by id, as of now (a copy). Besides resources it holds each storage account's
        keys (``{account id}/keys``) and each site's app settings (``{site id}/config/appsettings``)."""
        return MappingProxyType(self._store.snapshot())

    def resource_groups(self, subscription: str) -> dict[str, dict[str, Any]]:
        prefix = f"/subscriptions/{subscription}/resourcegroups/".lower()
        return {
            document["name"]: document
            for resource_id, document in self._store.snapshot().items()
            if document["type"] == resource_groups.TYPE and resource_id.lower().startswith(prefix)
        }

    def get_resource(self, resource_id: str) -> dict[str, Any] | None:
        with self._store.lock:
            document = self._store.get("/" + resource_id.strip("/"))
            return copy.deepcopy(document) if document is not None else None

    # --- the pipeline ----------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes) -> Reply:
        """Answer one HTTP request (also usable without sockets) and record it."""
        headers = {name.lower(): value for name, value in headers.items()}
        url = urlsplit(target)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        body, body_error = parse_body(raw_body)
        route = match(method, path)
        call = Call(method, path, query, body, route.name, route.params)
        reply = self._reply_to(call, headers, body_error)
        reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
        reply.headers.setdefault("x-ms-correlation-request-id", reply.headers["x-ms-request-id"])
        with self._log_lock:
            self._log.append(RecordedRequest(method, path, query, body, reply.status, route.name))
            if reply.status == 429:
                self._too_many[route.name] += 1
        return reply

    def _reply_to(self, call: Call, headers: Mapping[str, str], body_error: str | None) -> Reply:
        rate_headers: dict[str, str] = {}
        try:
            call.caller = authenticate(headers)
            if not call.api_version:
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            api_versions.require_known(call.route, call.path, call.api_version)
            if body_error is not None:
                raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: {body_error}")
            if call.route == UNKNOWN:
                raise ArmError(404, "NotFound", f"The ARM stand-in does not emulate {call.method} {call.path}.")
            rate_headers = self._admit(call)
            self._apply_fault(call)
            delay = self._latency_for(call.route)
            self._impose(call, delay)
            if call.route in self._async_routes:
                call.delay = delay
            elif delay > 0:
                self._stopping.wait(delay)
            with self._store.lock:
                self._store.settle()
                if call.method == "DELETE" and call.route != "locks.delete":
                    locks.refuse_if_locked(self._store, call.path)  # before the provider sees it, as ARM does
                reply = self._handlers[call.route](self._store, call)
        except ArmError as error:
            reply = error.reply()
        reply.headers.update(rate_headers)
        return reply

    def _admit(self, call: Call) -> dict[str, str]:
        if self.throttle is None:
            return {}
        region = None
        if call.route == "storage_accounts.create":
            region = str((call.body or {}).get("location") or "unknown")
        admission = self.throttle.admit(
            subscription=call.subscription, method=call.method, route=call.route, storage_region=region
        )
        if not admission.allowed:
            raise ArmError(
                429,
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type. "
                "Please retry after the number of seconds in the Retry-After header.",
                headers={**self._throttle_wait(admission.retry_after), **admission.headers},
            )
        return admission.headers

    def _throttle_wait(self, seconds: int) -> dict[str, str]:
        """ARM's Retry-After (whole seconds); in compressed time, the same wait compressed, in ms (see the store)."""
        if self.latency_scale < 1:
            return {"retry-after-ms": str(math.ceil(seconds * self.latency_scale * 1000))}
        return {"Retry-After": str(seconds)}

    def _apply_fault(self, call: Call) -> None:
        fault = self._faults.take(call.route, call.subscription)
        if fault is None:
            return
        if fault.kind == "hang" and fault.gate is not None:
            fault.gate.hold(self._stopping)
        elif fault.kind == "hang":
            self._stopping.wait(fault.seconds)
        elif fault.kind == "lro_failed":
            call.fail_with = fault.error()
        else:
            raise fault.error()

    def _impose(self, call: Call, delay: float) -> None:
        group = call.params.get("group")
        if delay > 0 and group:
            with self._log_lock:
                self._imposed[group.lower()] = self._imposed.get(group.lower(), 0.0) + delay

    def _latency_for(self, route: str) -> float:
        """Seconds for the most specific configured prefix of the route ("storage_accounts" < "...create")."""
        best = ""
        for prefix in self.latency:
            if (route == prefix or route.startswith(prefix + ".")) and len(prefix) > len(best):
                best = prefix
        return self.latency.get(best, 0.0) * self.latency_scale if best else 0.0
