"""What the stand-in believes exists, and the long-running operations still under way.

Every resource — resource group, storage account, plan, site, a site's app settings, a role
assignment — is one JSON document keyed by its ARM id, lower-cased because ARM ids are
case-insensitive. That makes "delete a group and everything in it" a prefix sweep, as it is in ARM.

Long-running operations finish lazily: an operation is done once its latency has passed and it
has been polled the required number of times; any request settles the ones whose time has come,
so state moves on even if nobody polls.
"""

from __future__ import annotations

import copy
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .messages import ArmError, Reply, resource_group_being_deleted, resource_group_not_found

Document = dict[str, Any]


def group_id(subscription: str, group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


def provider_id(subscription: str, group: str, resource_type: str, name: str) -> str:
    return f"{group_id(subscription, group)}/providers/{resource_type}/{name}"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Operation:
    """One accepted asynchronous request, answered on its own Location URL."""

    operation_id: str
    resource_id: str
    location: str
    ready_at: float
    polls_required: int
    on_success: Callable[[], None]
    final_reply: Callable[[], Reply]
    failure: ArmError | None = None
    on_failure: Callable[[], None] = lambda: None
    # "location": the Location URL answers 202 until done, then the final reply (ARM's Location
    # pattern). "azure-async": the Azure-AsyncOperation URL answers 200 {"status": InProgress |
    # Succeeded | Failed} and the client GETs the resource itself (ARM's async-operation pattern).
    style: str = "location"
    polls_seen: int = 0
    done: bool = False


@dataclass
class ResourceStore:
    base_url: str = ""
    clock: Callable[[], float] = time.monotonic
    # Retry-After on 202s; None means "the whole seconds left", 0 when nothing is left.
    lro_retry_after: int | None = None
    # Benchmarks compress time (latency_scale < 1). ARM's Retry-After is whole seconds, which
    # compressed time cannot express, so there the wait goes out as ``retry-after-ms`` instead: the
    # header azure-core also reads (azure.core.pipeline.policies._utils.get_retry_after) when no
    # Retry-After is present. Uncompressed, the stand-in sends Retry-After alone, as ARM does.
    compressed_time: bool = False
    # The directory every managed identity the stand-in mints belongs to, and its principals
    # (object id, lower-cased -> principal type) as role assignments look them up.
    tenant_id: str = "72f0a1c3-5b1e-4d2a-9c6e-0d5e3f4a2b10"
    principals: dict[str, str] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Names another Azure customer holds (global names): sites and storage accounts, lower-cased.
    held_site_names: set[str] = field(default_factory=set)
    held_storage_names: set[str] = field(default_factory=set)
    # Regions by name -> display name: all of them, and those offering Flex Consumption (names.py).
    all_regions: dict[str, str] = field(default_factory=dict)
    flex_regions: dict[str, str] = field(default_factory=dict)
    # How long a new role assignment takes to apply to data-plane calls (authorization.py).
    role_propagation_seconds: float = 0.0
    # Role assignment id (lower-cased) -> clock time from which it applies.
    effective_at: dict[str, float] = field(default_factory=dict)
    _documents: dict[str, Document] = field(default_factory=dict)
    _operations: dict[str, Operation] = field(default_factory=dict)
    # Resource id (lower-cased) -> the operation still working on it, so a repeated request
    # joins the running operation instead of starting a second one.
    _in_flight: dict[str, Operation] = field(default_factory=dict)

    # --- documents -----------------------------------------------------------------------

    def get(self, resource_id: str) -> Document | None:
        return self._documents.get(resource_id.lower())

    def put(self, resource_id: str, document: Document) -> None:
        self._documents[resource_id.lower()] = document

    def remove_tree(self, resource_id: str) -> None:
        """Drop a resource and everything whose id lies beneath it."""
        root = resource_id.lower()
        for key in [key for key in self._documents if key == root or key.startswith(root + "/")]:
            del self._documents[key]

    def find(self, resource_type: str) -> list[Document]:
        return [doc for doc in self._documents.values() if doc.get("type", "").lower() == resource_type.lower()]

    def snapshot(self) -> dict[str, Document]:
        with self.lock:
            return {doc["id"]: copy.deepcopy(doc) for doc in self._documents.values()}

    def require_group(self, subscription: str, group: str, *, for_write: bool) -> Document:
        """The group a request lives in; ARM refuses work in a missing or departing group."""
        document = self.get(group_id(subscription, group))
        if document is None:
            raise resource_group_not_found(group)
        if for_write and document["properties"]["provisioningState"] == "Deleting":
            raise resource_group_being_deleted(group)
        return document

    # --- long-running operations ---------------------------------------------------------

    def in_flight(self, resource_id: str) -> Operation | None:
        return self._in_flight.get(resource_id.lower())

    def start_operation(
        self,
        *,
        resource_id: str,
        location_path: str,
        api_version: str,
        delay: float,
        polls_required: int,
        on_success: Callable[[], None],
        final_reply: Callable[[], Reply],
        failure: ArmError | None = None,
        on_failure: Callable[[], None] = lambda: None,
        style: str = "location",
    ) -> Operation:
        # Derived from the resource, not random: the same operation on the same resource gets the
        # same URL, so a test that rebuilds the world and runs a workflow again sees the same inputs.
        operation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{location_path}|{resource_id.lower()}"))
        location = f"{self.base_url}{location_path}/{operation_id}?api-version={api_version}"
        operation = Operation(
            operation_id=operation_id,
            resource_id=resource_id,
            location=location,
            ready_at=self.clock() + delay,
            polls_required=polls_required,
            on_success=on_success,
            final_reply=final_reply,
            failure=failure,
            on_failure=on_failure,
            style=style,
        )
        self._operations[operation_id] = operation
        self._in_flight[resource_id.lower()] = operation
        self.settle()
        return operation

    def accepted(self, operation: Operation) -> Reply:
        """The 202 that hands out an operation: Location plus Retry-After, no body."""
        return Reply(202, None, {"Location": operation.location, **self._retry_after_headers(operation)})

    def accepted_async(self, operation: Operation, body: Document | None) -> Reply:
        """The 202 of ARM's async-operation pattern: Azure-AsyncOperation to poll, the resource as the body."""
        return Reply(
            202,
            copy.deepcopy(body) if body is not None else None,
            {"Azure-AsyncOperation": operation.location, **self._retry_after_headers(operation)},
        )

    def settle(self) -> None:
        """Finish every operation whose time has come and that needs no more polls."""
        now = self.clock()
        for operation in self._operations.values():
            if not operation.done and operation.polls_required == 0 and now >= operation.ready_at:
                self._finish(operation)

    def poll(self, operation_id: str) -> Reply:
        operation = self._operations.get(operation_id)
        if operation is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{operation_id}' could not be found.")
        if not operation.done:
            if operation.polls_seen < operation.polls_required or self.clock() < operation.ready_at:
                operation.polls_seen += 1
                if operation.style == "azure-async":
                    return Reply(200, {"status": "InProgress"}, self._retry_after_headers(operation))
                return self.accepted(operation)
            self._finish(operation)
        if operation.style == "azure-async":
            if operation.failure is not None:
                return Reply(200, {"status": "Failed", **operation.failure.body_for_status()})
            return Reply(200, {"status": "Succeeded"})
        if operation.failure is not None:
            reply = operation.failure.reply()
            # ARM's operation-status shape alongside the error, for readers that look for it.
            reply.body = {"status": "Failed", **(reply.body or {})}
            return reply
        return operation.final_reply()

    def _finish(self, operation: Operation) -> None:
        operation.done = True
        if self._in_flight.get(operation.resource_id.lower()) is operation:
            del self._in_flight[operation.resource_id.lower()]
        if operation.failure is None:
            operation.on_success()
        else:
            operation.on_failure()

    def _retry_after_headers(self, operation: Operation) -> dict[str, str]:
        if self.compressed_time and self.lro_retry_after is None:
            return {"retry-after-ms": str(max(0, math.ceil((operation.ready_at - self.clock()) * 1000)))}
        return {"Retry-After": self._retry_after(operation)}

    def _retry_after(self, operation: Operation) -> str:
        if self.lro_retry_after is not None:
            return str(self.lro_retry_after)
        return str(max(0, math.ceil(operation.ready_at - self.clock())))
