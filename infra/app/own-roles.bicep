// What the control plane's identity may do with its own resources, and nothing more (Microsoft's
// functions-quickstart-python-http-azd infra/app/rbac.bicep grants the same four): the Functions host
// uses blobs (leases, the deployment package), queues and tables of the account; the registry is
// tables; telemetry is published to Application Insights. Durable on Azure Storage keeps its task hub
// on another account, with its own grants (task-hub-roles.bicep). Assignment names are
// guid(scope, principal, role): a redeploy re-applies the same assignment instead of adding one.

@description('Name of the control plane\'s storage account (this resource group).')
param storageAccountName string

@description('Name of the Application Insights component (this resource group).')
param applicationInsightsName string

@description('Principal (object) id of the control plane\'s identity.')
param principalId string

// Built-in role ids (Learn: role-based-access-control/built-in-roles).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

var storageRoles = [
  storageBlobDataOwner
  storageQueueDataContributor
  storageTableDataContributor
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource component 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(account.id, principalId, roleId)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource telemetryAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(component.id, principalId, monitoringMetricsPublisher)
  scope: component
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
