"""Resource groups: each twin's blast radius, and its one-call teardown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.core.rest import HttpRequest

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import TwinNames


def twin_tags(names: TwinNames, *, org: str, owner: str) -> dict[str, str]:
    """The script's tags (twin, stack, owner=<org>) plus who the twin belongs to here."""
    return {
        "twin": names.name,
        "stack": "TwinStack",
        "owner": org,
        "twinstack-owner": owner,
        "twinstack-cloud-id": names.cloud_id,
    }


def ensure_resource_group(clients: ArmClients, names: TwinNames, *, region: str, tags: dict[str, str]) -> str:
    """Create or update ``rg-twin-N`` (PUT is idempotent); return its id."""
    group = clients.resources.resource_groups.create_or_update(names.resource_group, {"location": region, "tags": tags})
    return str(group.id)


def resource_group_exists(clients: ArmClients, names: TwinNames) -> bool:
    return bool(clients.resources.resource_groups.check_existence(names.resource_group))


def begin_delete_resource_group(clients: ArmClients, names: TwinNames) -> str | None:
    """Start deleting the group; return the operation URL to poll, or None when it is already gone.

    The URL, not the SDK poller's continuation token, is what we hand back: the token pickles the
    initial response, request headers included, and Durable would keep it in its history.
    """
    try:
        poller = clients.resources.resource_groups.begin_delete(names.resource_group, polling=False)
    except ResourceNotFoundError:
        return None
    return operation_url(poller)


def operation_url(poller: Any) -> str | None:
    """The URL to poll of an operation begun with ``polling=False``; None when ARM finished it at once.

    ARM's async pattern (Azure/azure-resource-manager-rpc, async-api-reference.md): a 201/202 carries
    Azure-AsyncOperation or Location; a 200 is the final answer.
    """
    response = poller.polling_method()._initial_response.http_response
    location = response.headers.get("Azure-AsyncOperation") or response.headers.get("Location")
    return str(location) if location and response.status_code != 200 else None


@dataclass(frozen=True)
class OperationState:
    done: bool
    failed: bool = False
    code: str | None = None
    message: str | None = None


def poll_operation(clients: ArmClients, url: str) -> OperationState:
    """One GET of an ARM async-operation URL, through the client's pipeline (auth, retries)."""
    response = clients.resources._client.send_request(HttpRequest("GET", url))  # noqa: SLF001
    if response.status_code == 202:
        return OperationState(done=False)
    if response.status_code in (200, 204):
        body = _json_or_empty(response)
        status = str(body.get("status", "Succeeded"))
        if status in ("Succeeded", ""):
            return OperationState(done=True)
        if status in ("Failed", "Canceled"):
            error = body.get("error") or {}
            return OperationState(done=True, failed=True, code=error.get("code", status), message=error.get("message"))
        return OperationState(done=False)
    response.raise_for_status()
    return OperationState(done=False)


def _json_or_empty(response: object) -> dict[str, Any]:
    try:
        body = response.json()  # type: ignore[attr-defined]
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
