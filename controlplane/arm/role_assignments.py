"""Role assignments: what a brainstem's own identity may do with its own storage (identity over keys).

A Flex Consumption app reaches its host storage and its deployment container with its
system-assigned identity, never an account key, so that identity needs data roles on the twin's
storage account. Assignments are named deterministically (uuid5 of scope, principal and role): a
repeated PUT of the same name is a no-op in ARM, so re-running provisioning never adds a second one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from azure.core.exceptions import ResourceExistsError

from controlplane.arm.clients import ArmClients

logger = logging.getLogger(__name__)

STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"  # Storage Blob Data Owner
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"  # Storage Queue Data Contributor
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"  # Storage Table Data Contributor

# What the Functions host does with AzureWebJobsStorage__* (blobs: leases, deployment package;
# queues: scaling and retries; tables: Durable and timers) — Microsoft's documented set.
HOST_STORAGE_ROLES = (STORAGE_BLOB_DATA_OWNER, STORAGE_QUEUE_DATA_CONTRIBUTOR, STORAGE_TABLE_DATA_CONTRIBUTOR)


def role_definition_id(subscription_id: str, role_id: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"


def assignment_name(scope: str, principal_id: str, role_id: str) -> str:
    """The same grant always gets the same name, whoever computes it and however often."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope.lower()}|{principal_id.lower()}|{role_id.lower()}"))


def ensure_role_assignment(clients: ArmClients, *, scope: str, principal_id: str, role_id: str) -> str:
    """Grant ``role_id`` to a managed identity on ``scope``; return the assignment's name."""
    name = assignment_name(scope, principal_id, role_id)
    parameters = {
        "properties": {
            "roleDefinitionId": role_definition_id(clients.subscription_id, role_id),
            "principalId": principal_id,
            # Said up front so ARM does not look the principal up in Entra ID, where a just-created
            # identity may not have replicated yet (PrincipalNotFound).
            "principalType": "ServicePrincipal",
        }
    }
    try:
        clients.authorization.role_assignments.create(scope, name, parameters)
    except ResourceExistsError as exc:
        # The same grant under another name (made by hand or by a template) already does the job.
        if not (exc.error and exc.error.code == "RoleAssignmentExists"):
            raise
        logger.info("role %s for %s on %s already granted under another name", role_id, principal_id, scope)
    return name


def ensure_role_assignments(
    clients: ArmClients, *, scope: str, principal_id: str, role_ids: Iterable[str]
) -> list[str]:
    return [ensure_role_assignment(clients, scope=scope, principal_id=principal_id, role_id=role) for role in role_ids]
