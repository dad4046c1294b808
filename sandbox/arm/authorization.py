"""Microsoft.Authorization role assignments on a resource scope (identity over keys).

ARM's rules, which decide how product code must name assignments to stay idempotent: the
assignment's name is a GUID chosen by the caller; a PUT with the same name and the same principal,
role and scope succeeds again; the same principal+role+scope under a *different* name is a 409
RoleAssignmentExists; and an existing name cannot be repointed (RoleAssignmentUpdateNotPermitted).
Assignments live under their scope's id, so deleting the resource group sweeps them away too.

Two more rules the product relies on:

* ``roleDefinitionId`` must name a role that exists; for the stand-in, one of Azure's built-in roles
  (ids from Learn, "Azure built-in roles"), else 400 ``RoleDefinitionDoesNotExist``.
* The caller must be allowed to write it (``rights.py``): with the default grants, only the three
  storage roles, to principals the request calls ``ServicePrincipal`` — else 403 ``AuthorizationFailed``,
  checked before the body is validated, as ARM authorizes before the provider sees the request.
* ``principalType`` is optional in the spec (azure-rest-api-specs authorization 2022-04-01
  ``RoleAssignmentProperties``). Left out, ARM looks the principal up in the directory and records its
  real type; a principal the directory does not (yet) hold is 400 ``PrincipalNotFound`` (Learn:
  role-based-access-control/troubleshooting, "Assigning a role to a new principal sometimes fails").
  The stand-in's directory holds the identities it minted (sites' system-assigned identities: service
  principals); it never guesses ``User``.
* A new assignment does not apply at once: "when you assign roles or remove role assignments, it can
  take up to 10 minutes for changes to take effect" (Learn, "Troubleshoot Azure RBAC"). Data-plane
  checks (``grant_effective``) see an assignment only ``role_propagation_seconds`` after it was made.
"""

from __future__ import annotations

import re
import uuid

from .messages import ArmError, Call, Reply
from .rights import CallerRights
from .routing import split_path
from .store import ResourceStore, utc_now_iso

TYPE = "Microsoft.Authorization/roleAssignments"
_ROLE_DEFINITION = re.compile(r"/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-f-]{36})$", re.I)
# Learn, "Azure built-in roles": the ids are the same in every tenant.
BUILT_IN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "0ad04412-c4d5-4796-b79c-f76d14c8d402": "Durable Task Data Contributor",
}


def _assignment_id(scope: str, name: str) -> str:
    return f"{scope}/providers/{TYPE}/{name}"


def create(store: ResourceStore, call: Call, *, rights: CallerRights) -> Reply:
    scope = _canonical_scope(call.params["scope"])
    name = call.params["name"]
    asked = (call.body or {}).get("properties") or {}
    rights.authorize_role_assignment_write(
        caller=call.caller,
        assignment_id=_assignment_id(scope, name),
        role_id=str(asked.get("roleDefinitionId") or "").rsplit("/", 1)[-1],
        principal_type=asked.get("principalType"),
    )
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
    found = _ROLE_DEFINITION.search(role)
    if not found or found.group(1).lower() not in BUILT_IN_ROLES:
        raise ArmError(
            400, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{role}' does not exist."
        )
    if not principal:
        raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    principal_type = given.get("principalType") or _directory_type(store, principal)

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
            "principalType": principal_type,
            "scope": scope,
            "condition": given.get("condition"),
            "conditionVersion": given.get("conditionVersion"),
            "description": given.get("description"),
            "createdOn": now,
            "updatedOn": now,
            "createdBy": call.caller,
            "updatedBy": call.caller,
            "delegatedManagedIdentityResourceId": None,
        },
    }
    store.put(resource_id, document)
    store.effective_at[resource_id.lower()] = store.clock() + store.role_propagation_seconds
    return Reply(201, document)


def _directory_type(store: ResourceStore, principal: str) -> str:
    known = store.principals.get(principal.lower())
    if known is None:
        raise ArmError(
            400,
            "PrincipalNotFound",
            f"Principal {principal.replace('-', '')} does not exist in the directory {store.tenant_id}. Check that "
            "you have the correct principal ID. If you are creating this principal and then immediately "
            "assigning a role, this error might be related to a replication delay. In this case, set the role "
            "assignment principalType property to a value, such as ServicePrincipal, User, or Group.  "
            "See https://aka.ms/docs-principaltype",
        )
    return known


def grant_effective(store: ResourceStore, *, principal: str, scope: str, role_ids: set[str]) -> bool:
    """Whether ``principal`` holds one of ``role_ids`` on ``scope`` (or a scope above it) *and* it applies yet."""
    target = _canonical_scope(scope).lower()
    now = store.clock()
    for assignment in store.find(TYPE):
        properties = assignment["properties"]
        held_at = properties["scope"].lower()
        role = properties["roleDefinitionId"].rsplit("/", 1)[-1].lower()
        covers = target == held_at or target.startswith(held_at + "/")
        if covers and properties["principalId"].lower() == principal.lower() and role in role_ids:
            if store.effective_at.get(assignment["id"].lower(), 0.0) <= now:
                return True
    return False


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
