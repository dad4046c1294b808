// The control plane's identity on the task hub's own storage account (Durable on Azure Storage only):
// the three data roles Learn recommends for the Durable extension on an account that is not the host's
// (Learn: durable-functions-azure-storage-provider, "Identity-based connections", which names Storage
// Blob Data Contributor, Storage Queue Data Contributor and Storage Table Data Contributor; Owner-like
// management roles are not enough). Scoped to that account alone: the registry's account keeps its
// own grants (own-roles.bicep), and nothing here reaches it. Assignment names are
// guid(scope, principal, role): a redeploy re-applies the same assignment instead of adding one.

@description('Name of the task hub\'s storage account (this resource group).')
param storageAccountName string

@description('Principal (object) id of the control plane\'s identity.')
param principalId string

// Built-in role ids (Learn: role-based-access-control/built-in-roles).
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

var taskHubRoles = [
  storageBlobDataContributor // partition leases and large messages (<hub>-leases, <hub>-largemessages)
  storageQueueDataContributor // the control queues and the work-item queue
  storageTableDataContributor // the History and Instances tables (and the partition table)
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource taskHubAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in taskHubRoles: {
    name: guid(account.id, principalId, roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]
