"""Management locks: a ``CanNotDelete`` lock on every twin's resource group, so a stray delete fails.

A lock is what stops ``az group delete`` (or a portal click, or a script with the wrong name) from
taking a twin with it: ARM refuses any delete of the group or of anything in it with 409
``ScopeLocked`` until the lock is gone (Learn, "Lock your resources to protect your infrastructure";
REST spec Azure/azure-rest-api-specs Microsoft.Authorization/locks/stable/2020-05-01/locks.json).
Our own teardown removes the lock just before it deletes the group. ``CanNotDelete``, not
``ReadOnly``: a read-only lock would also refuse the app-settings POSTs and site PUTs every update
and code publish sends. Locks are control-plane only: the twin's data plane goes on untouched.

The lock has one fixed name per group, so the PUT is idempotent (a replay rewrites the same lock).
"""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.resource.locks.models import ManagementLockObject

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import TwinNames

LOCK_NAME = "twinstack-do-not-delete"
LOCK_NOTES = "Twin Stack control plane: delete this twin through the control plane (DELETE /api/cp/brainstems/{id})."


def ensure_delete_lock(clients: ArmClients, names: TwinNames) -> str:
    """Put the ``CanNotDelete`` lock on the twin's group (create or update); return its id."""
    lock = clients.locks.management_locks.create_or_update_at_resource_group_level(
        names.resource_group, LOCK_NAME, ManagementLockObject(level="CanNotDelete", notes=LOCK_NOTES)
    )
    return str(lock.id)


def remove_delete_lock(clients: ArmClients, names: TwinNames) -> None:
    """Remove our lock (ARM answers 200, or 204 when there was none); a group already gone is fine."""
    try:
        clients.locks.management_locks.delete_at_resource_group_level(names.resource_group, LOCK_NAME)
    except ResourceNotFoundError:
        return


def delete_lock_exists(clients: ArmClients, names: TwinNames) -> bool:
    try:
        clients.locks.management_locks.get_at_resource_group_level(names.resource_group, LOCK_NAME)
    except ResourceNotFoundError:
        return False
    return True
