"""Microsoft.Authorization role assignments on a resource scope (identity over keys).

ARM's rules, which decide how product code must name assignments to stay idempotent: the
assignment's name is a GUID chosen by the caller; a PUT with the same name and the same principal,
role and scope succeeds again; the same principal+role+scope under a *different* name is a 409
RoleAssignmentExists; and an existing name cannot be repointed (RoleAssignmentUpdateNotPermitted).
Assignments live under their scope's id, so deleting the resource group sweeps them away too.
"""

from __future__ import annotations

import re
import uuid

from .messages import ArmError, Call, Reply
from .routing import split_path
from .store import ResourceStore, utc_now_iso

TYPE = "Microsoft.Authorization/roleAssignments"
_ROLE_DEFINITION = re.compile(r"/providers/Microsoft\.Authorization/roleDefinitions/[0-9a-f-]{36}$", re.I)
# The principal the stand-in pretends issued the token; ARM records it as createdBy.
CALLER_PRINCIPAL = "3b0f5a0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def _assignment_id(scope: str, name: str) -> str:
    return f"{scope}/providers/{TYPE}/{name}"


def create(store: ResourceStore, call: Call) -> Reply:
    scope = _canonical_scope(call.params["scope"])
    name = call.params["name"]
    if not _is_guid(name):
        raise ArmError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        )
    _require_scope(store, scope)
    given = (call.body or {}).get("properties") or {}
    role = given.get("roleDefinitionId") or ""
    principal = given.get("principalId") or ""
    if not _ROLE_DEFINITION.search(role):
        raise ArmError(
            400, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{role}' does not exist."
        )
    if not principal:
        raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")

    resource_id = _assignment_id(scope, name)
    existing = store.get(resource_id)
    if existing is not None:
        same = _same_grant(existing["properties"], principal, role, scope)
        if not same:
            raise ArmError(
                409,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        return Reply(201, existing)
    for other in store.find(TYPE):
        if _same_grant(other["properties"], principal, role, scope):
            raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")

    now = utc_now_iso()
    document = {
        "id": resource_id,
        "name": name,
        "type": TYPE,
        "properties": {
            "roleDefinitionId": role,
            "principalId": principal,
            "principalType": given.get("principalType") or "User",
            "scope": scope,
            "condition": given.get("condition"),
            "conditionVersion": given.get("conditionVersion"),
            "description": given.get("description"),
            "createdOn": now,
            "updatedOn": now,
            "createdBy": CALLER_PRINCIPAL,
            "updatedBy": CALLER_PRINCIPAL,
            "delegatedManagedIdentityResourceId": None,
        },
    }
    store.put(resource_id, document)
    return Reply(201, document)


def get(store: ResourceStore, call: Call) -> Reply:
    scope = _canonical_scope(call.params["scope"])
    document = store.get(_assignment_id(scope, call.params["name"]))
    if document is None:
        raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{call.params['name']}' is not found.")
    return Reply(200, document)


def _canonical_scope(scope: str) -> str:
    return "/" + "/".join(split_path(scope))


def _require_scope(store: ResourceStore, scope: str) -> None:
    """The scope must exist: its resource group, and the resource itself when it is one."""
    segments = split_path(scope)
    if len(segments) >= 4 and segments[2].lower() == "resourcegroups":
        store.require_group(segments[1], segments[3], for_write=True)
        if len(segments) > 4 and store.get(scope) is None:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource '{'/'.join(segments[5:])}' under resource group '{segments[3]}' was not found. "
                "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )


def _same_grant(properties: dict, principal: str, role: str, scope: str) -> bool:
    return (
        properties["principalId"].lower() == principal.lower()
        and properties["roleDefinitionId"].lower() == role.lower()
        and properties["scope"].lower() == scope.lower()
    )


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36
