"""What the caller may do: ARM's authorization step, between authentication and the provider.

By default the caller holds exactly what ``infra/app/pool-subscription-roles.bicep`` grants the control
plane's identity on each pool subscription (``tests/infra/test_roles.py`` holds ``POOL_CONDITION`` equal
to what that file evaluates to):

* **Contributor**: every route the stand-in emulates except writing role assignments — Contributor's
  ``NotActions`` include ``Microsoft.Authorization/*/Write`` and ``/*/Delete`` (Learn: built-in-roles,
  Contributor).
* **Role Based Access Control Administrator** with an ABAC condition of Microsoft's "Constrain roles and
  principal types" shape (Learn: role-based-access-control/delegate-role-assignments-examples): a role
  assignment write is allowed only when ``@Request[...:RoleDefinitionId]`` is one of the listed roles and
  ``@Request[...:PrincipalType]`` one of the listed types. The attributes are the request's: a request
  that names no ``principalType`` has none, so the condition is not fulfilled.

A write outside the grants is refused as ARM refuses it: 403 ``AuthorizationFailed`` "The client '{oid}'
with object id '{oid}' does not have authorization or an ABAC condition not fulfilled to perform action
'Microsoft.Authorization/roleAssignments/write' over scope '{id}' or the scope is invalid. If access was
recently granted, please refresh your credentials." (Learn: role-based-access-control/troubleshooting,
"Symptom - Unable to assign a role"). ``OWNER`` lifts the constraint, for tests of other rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .messages import ArmError


def _clause(action: str, source: str) -> str:
    attribute = rf"@{source}\[Microsoft\.Authorization/roleAssignments:"
    return (
        rf"\(\(!\(ActionMatches\{{'Microsoft\.Authorization/roleAssignments/{action}'\}}\)\) OR "
        rf"\({attribute}RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{{(?P<{action}_roles>[^}}]*)\}} AND "
        rf"{attribute}PrincipalType\] ForAnyOfAnyValues:StringEqualsIgnoreCase \{{(?P<{action}_types>[^}}]*)\}}\)\)"
    )


_CONSTRAIN_ROLES_AND_PRINCIPAL_TYPES = re.compile(_clause("write", "Request") + " AND " + _clause("delete", "Resource"))


class Condition:
    """What a "Constrain roles and principal types" condition permits (its write and delete clauses)."""

    def __init__(self, text: str) -> None:
        match = _CONSTRAIN_ROLES_AND_PRINCIPAL_TYPES.fullmatch(text)
        if not match:
            raise ValueError(f"not Microsoft's 'Constrain roles and principal types' shape: {text}")
        self.text = text
        self.roles = {a: {g.strip().lower() for g in match[f"{a}_roles"].split(",")} for a in ("write", "delete")}
        self.types = {
            a: {t.strip().strip("'").lower() for t in match[f"{a}_types"].split(",")} for a in ("write", "delete")
        }

    def permits(self, action: str, role_id: str, principal_type: str | None) -> bool:
        if principal_type is None:
            return False  # the attribute is absent from the request: ForAnyOfAnyValues over nothing
        return role_id.lower() in self.roles[action] and principal_type.lower() in self.types[action]


# The roles the control plane gives a Flex twin's identity (Storage Blob Data Owner, Storage Queue Data
# Contributor, Storage Table Data Contributor), to service principals only: infra's condition, verbatim.
_TWIN_ROLES = (
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b, 974c5e8b-45b9-4653-ba55-5f855dd0fb88, 0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
)
POOL_CONDITION = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
    f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{_TWIN_ROLES}}} AND "
    "@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
    "{'ServicePrincipal'})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
    f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{_TWIN_ROLES}}} AND "
    "@Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
    "{'ServicePrincipal'}))"
)


@dataclass(frozen=True)
class CallerRights:
    """The caller's role-assignment rights: unconstrained (``condition`` None) or under an ABAC condition."""

    condition: Condition | None

    def authorize_role_assignment_write(
        self, *, caller: str, assignment_id: str, role_id: str, principal_type: str | None
    ) -> None:
        if self.condition is None or self.condition.permits("write", role_id, principal_type):
            return
        raise ArmError(
            403,
            "AuthorizationFailed",
            f"The client '{caller}' with object id '{caller}' does not have authorization or an ABAC condition "
            "not fulfilled to perform action 'Microsoft.Authorization/roleAssignments/write' over scope "
            f"'{assignment_id}' or the scope is invalid. If access was recently granted, please refresh your "
            "credentials.",
        )


POOL_GRANTS = CallerRights(Condition(POOL_CONDITION))
OWNER = CallerRights(None)
