// What the control plane's identity may do in one subscription of its pool (CP_SUBSCRIPTION_POOL):
// deployed once per pool subscription from main.bicep with scope: subscription(id).
//
//  * Contributor: resource groups, storage accounts (and, for Linux Consumption twins, their keys),
//    plans and sites, restarts, trigger syncs, name checks, deletes — everything the activities do
//    through ARM except writing role assignments, which Contributor cannot.
//  * Role Based Access Control Administrator, constrained by an ABAC condition to exactly the roles the
//    code gives a Flex twin's own identity on the twin's storage account
//    (controlplane/arm/role_assignments.py HOST_STORAGE_ROLES) and to principals of type
//    ServicePrincipal: Microsoft's "Constrain roles and principal types" example (Learn:
//    role-based-access-control/delegate-role-assignments-examples), with ServicePrincipal in place of
//    User and Group. It cannot grant itself or anyone else Owner, Contributor or these roles to a user.
//  * Storage Blob Data Contributor: the control plane uploads each Flex twin's code package into the
//    twin's own new account with its identity (controlplane/arm/deployment_packages.py); a grant on
//    the subscription covers accounts that do not exist yet, and needs no per-twin grant to propagate.
//  * Locks Contributor: the CanNotDelete lock on every twin's group (controlplane/arm/locks.py), put by
//    provisioning and removed by the teardown. Contributor's NotActions exclude Microsoft.Authorization
//    writes and deletes; the locks REST spec names Owner and User Access Administrator, both far wider;
//    Locks Contributor (Learn: built-in-roles, Management and governance) holds only
//    Microsoft.Authorization/locks/read, /write and /delete.
targetScope = 'subscription'

@description('Principal (object) id of the control plane\'s identity.')
param principalId string

// Built-in role ids (Learn: role-based-access-control/built-in-roles).
var contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c'
var roleBasedAccessControlAdministrator = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var locksContributor = '28bf596f-4eb7-45ce-b5bc-6cf482fec137'

// The only roles the control plane assigns (to Flex twins' identities on their storage accounts):
// Storage Blob Data Owner, Storage Queue Data Contributor, Storage Table Data Contributor.
var twinRoleIds = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
]
var twinRoleSet = join(twinRoleIds, ', ')

// Condition #1 (create/update: attributes of the request) AND condition #2 (delete: attributes of the
// assignment being deleted), as in Microsoft's example.
var writeCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${twinRoleSet}} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'}))'
var deleteCondition = '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${twinRoleSet}} AND @Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {\'ServicePrincipal\'}))'
var twinRolesOnly = '${writeCondition} AND ${deleteCondition}'

resource contributorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, contributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource roleAdministratorAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleBasedAccessControlAdministrator)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleBasedAccessControlAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
    condition: twinRolesOnly
    conditionVersion: '2.0'
  }
}

resource packagePublisherAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, storageBlobDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource locksAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, locksContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', locksContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output roleAssignmentIds array = [
  contributorAssignment.id
  roleAdministratorAssignment.id
  packagePublisherAssignment.id
  locksAssignment.id
]
