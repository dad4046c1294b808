"""Least privilege, checked against the code: the roles infra/ grants are the ones the code needs, and
the ABAC condition on Role Based Access Control Administrator lets the control plane assign exactly the
roles the code assigns, to service principals only. The last test runs real provisioning (the real
SDKs against the ARM stand-in) and holds every ARM write it makes against those grants."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from azure.storage.blob import BlobServiceClient

import controlplane.arm.code_publishing as code_publishing
from controlplane.arm.role_assignments import HOST_STORAGE_ROLES
from sandbox.rig import ControlPlaneRig
from tests.infra.bicep import BicepFile, Evaluator, properties, string_literal
from tests.infra.deployment import INFRA
from tests.workflows.twin_jobs import provision, teardown

# Built-in role ids (Learn: role-based-access-control/built-in-roles).
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402"
EVENTGRID_DATA_SENDER = "d5a91429-5739-47e2-a06b-3470a27159e7"
# Microsoft.Authorization/locks/read, write and delete only (Learn: built-in-roles, Management and governance).
LOCKS_CONTRIBUTOR = "28bf596f-4eb7-45ce-b5bc-6cf482fec137"


def _clause(action: str, source: str) -> str:
    """One of the example's two clauses: `action` allowed only for the listed roles and principal types."""
    attribute = rf"@{source}\[Microsoft\.Authorization/roleAssignments:"
    return (
        rf"\(\(!\(ActionMatches\{{'Microsoft\.Authorization/roleAssignments/{action}'\}}\)\) OR "
        rf"\({attribute}RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals \{{(?P<{action}_roles>[^}}]*)\}} AND "
        rf"{attribute}PrincipalType\] ForAnyOfAnyValues:StringEqualsIgnoreCase \{{(?P<{action}_types>[^}}]*)\}}\)\)"
    )


CONSTRAIN_ROLES_AND_PRINCIPAL_TYPES = re.compile(_clause("write", "Request") + " AND " + _clause("delete", "Resource"))

# Learn: role-based-access-control/delegate-role-assignments-examples, "Example: Constrain roles and
# principal types" (the Azure PowerShell form), verbatim: the pattern above must read Microsoft's own.
MICROSOFT_EXAMPLE = (
    "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
    "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
    "{5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND "
    "@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
    "{'User', 'Group'})) AND ((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
    "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
    "{5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912} AND "
    "@Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase "
    "{'User', 'Group'}))"
)


class Condition:
    """What a "Constrain roles and principal types" condition permits."""

    def __init__(self, text: str) -> None:
        match = CONSTRAIN_ROLES_AND_PRINCIPAL_TYPES.fullmatch(text)
        assert match, f"not Microsoft's 'Constrain roles and principal types' shape: {text}"
        self.roles = {a: {g.strip().lower() for g in match[f"{a}_roles"].split(",")} for a in ("write", "delete")}
        self.types = {
            a: {t.strip().strip("'").lower() for t in match[f"{a}_types"].split(",")} for a in ("write", "delete")
        }

    def permits(self, action: str, role_id: str, principal_type: str) -> bool:
        return role_id.lower() in self.roles[action] and principal_type.lower() in self.types[action]


def assignments(file: BicepFile) -> dict[str, dict]:
    return {
        name: properties(properties(d.value if d.value.type == "object" else d.value.named_children[-1])["properties"])
        for name, d in file.resources.items()
        if d.type_name.startswith("Microsoft.Authorization/roleAssignments@")
    }


def pool_roles() -> tuple[Evaluator, dict[str, dict]]:
    file = BicepFile(INFRA / "app" / "pool-subscription-roles.bicep")
    return Evaluator(file, {"principalId": "p"}), assignments(file)


def role_of(evaluator: Evaluator, props: dict) -> str:
    return evaluator.eval(props["roleDefinitionId"]).rsplit("/", 1)[1]


def test_the_condition_pattern_reads_microsofts_example() -> None:
    example = Condition(MICROSOFT_EXAMPLE)
    assert example.permits("write", "5e467623-bb1f-42f4-a55d-6e525e11384b", "User")
    assert not example.permits("write", "5e467623-bb1f-42f4-a55d-6e525e11384b", "ServicePrincipal")
    assert not example.permits("delete", CONTRIBUTOR, "Group")


def test_the_pool_grants_are_contributor_constrained_rbac_administrator_blob_data_and_locks_contributor() -> None:
    evaluator, grants = pool_roles()
    by_role = {role_of(evaluator, props): props for props in grants.values()}
    assert set(by_role) == {CONTRIBUTOR, RBAC_ADMINISTRATOR, STORAGE_BLOB_DATA_CONTRIBUTOR, LOCKS_CONTRIBUTOR}
    for role, props in by_role.items():
        assert string_literal(props["principalType"]) == "ServicePrincipal"
        assert ("condition" in props) == (role == RBAC_ADMINISTRATOR), role
    assert string_literal(by_role[RBAC_ADMINISTRATOR]["conditionVersion"]) == "2.0"


def test_the_rbac_administrator_may_assign_exactly_the_roles_the_code_assigns_to_service_principals() -> None:
    evaluator, grants = pool_roles()
    [admin] = [p for p in grants.values() if role_of(evaluator, p) == RBAC_ADMINISTRATOR]
    condition = Condition(evaluator.eval(admin["condition"]))
    assert condition.roles == {"write": set(HOST_STORAGE_ROLES), "delete": set(HOST_STORAGE_ROLES)}
    assert condition.types == {"write": {"serviceprincipal"}, "delete": {"serviceprincipal"}}
    for forbidden in (CONTRIBUTOR, RBAC_ADMINISTRATOR, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"):  # ... and Owner
        assert not condition.permits("write", forbidden, "ServicePrincipal")
    assert not condition.permits("write", HOST_STORAGE_ROLES[0], "User")


def test_code_publishing_takes_no_data_role_beyond_contributor() -> None:
    # Publishing (issue 13) no longer writes blobs with the control plane's identity: config-zip's SAS is
    # signed with a key read through ARM, and One Deploy's scm API takes the ARM token; both are
    # Contributor's. (The pool's Storage Blob Data Contributor grant is no longer what publishing uses.)
    doc = code_publishing.__doc__ or ""
    assert "Contributor" in doc and "Storage Blob Data Contributor" not in doc


def test_own_resources_get_the_host_roles_and_telemetry_publishing_only() -> None:
    file = BicepFile(INFRA / "app" / "own-roles.bicep")
    evaluator = Evaluator(file, {"storageAccountName": "st", "applicationInsightsName": "appi", "principalId": "p"})
    assert set(evaluator.var("storageRoles")) == set(HOST_STORAGE_ROLES)  # the same three the code gives Flex hosts
    grants = assignments(file)
    assert role_of(evaluator, grants["telemetryAssignment"]) == MONITORING_METRICS_PUBLISHER
    storage_grant = file.resources["storageAssignments"].value
    assert storage_grant.type == "for_statement" and "in storageRoles" in storage_grant.text.decode()
    for props in grants.values():
        assert string_literal(props["principalType"]) == "ServicePrincipal"


@pytest.mark.parametrize(
    ("module", "role"),
    [("durable-task-scheduler.bicep", DURABLE_TASK_DATA_CONTRIBUTOR), ("event-grid.bicep", EVENTGRID_DATA_SENDER)],
)
def test_opt_in_services_grant_one_data_role(module: str, role: str) -> None:
    file = BicepFile(INFRA / "app" / module)
    given = {"name": "n", "location": "l", "taskHubName": "hub", "principalId": "p"}
    evaluator = Evaluator(file, {k: v for k, v in given.items() if k in file.params})
    [grant] = assignments(file).values()
    assert role_of(evaluator, grant) == role


@pytest.fixture
def azurite_blobs(storage_connection: str) -> Iterator[BlobServiceClient]:
    service = BlobServiceClient.from_connection_string(storage_connection)
    yield service
    for container in service.list_containers(name_starts_with="app-package-"):
        service.delete_container(container.name)


def test_every_arm_write_the_code_makes_is_within_the_pool_grants(
    make_rig: Callable[..., ControlPlaneRig], azurite_blobs: BlobServiceClient
) -> None:
    evaluator, grants = pool_roles()
    [admin] = [p for p in grants.values() if role_of(evaluator, p) == RBAC_ADMINISTRATOR]
    condition = Condition(evaluator.eval(admin["condition"]))
    rig = make_rig(serve_packages=True)
    assert provision(rig, "kody", runtime_target="azure-flex-py312").status == "Completed"
    assert provision(rig, "molly", runtime_target="azure-consumption-py311").status == "Completed"
    assert teardown(rig, "twin-kody-e89834").status == "Completed"

    writes = [r for r in rig.arm.requests if r.method in ("PUT", "POST", "PATCH", "DELETE")]
    assert len(writes) > 10
    role_writes = lock_writes = 0
    for request in writes:
        provider_path = request.path.lower()
        if "/providers/microsoft.authorization/" not in provider_path:
            continue  # within Contributor: everything but Microsoft.Authorization writes and deletes
        if "/providers/microsoft.authorization/locks/" in provider_path:
            lock_writes += 1  # Locks Contributor's, and nothing else it grants
            continue
        assert "/providers/microsoft.authorization/roleassignments/" in provider_path, request.path
        assert request.method == "PUT", request.path
        body = request.body["properties"]
        role_id = body["roleDefinitionId"].rsplit("/", 1)[1]
        assert condition.permits("write", role_id, body["principalType"]), (role_id, body["principalType"])
        role_writes += 1
    assert role_writes == len(HOST_STORAGE_ROLES)  # the Flex twin's three; Linux Consumption takes none
    assert lock_writes == 3  # two twins' locks put, one removed by the teardown
