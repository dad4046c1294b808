// Opt-in (main.bicep useDurableTaskScheduler): the Durable Task Scheduler as Durable Functions' backend
// instead of Azure Storage — a scheduler, the control plane's task hub on it, and the Durable Task
// Data Contributor role for the control plane's identity. The scheduler accepts identities only, no
// keys (Learn: durable-task-scheduler "Configure identity-based authentication"; resource shapes as in
// Azure-Samples/Durable-Task-Scheduler samples/durable-functions/python/pdf-summarizer/infra/app/dts.bicep).
// Supported with every Functions plan, Flex Consumption included (Learn: durable-task-scheduler).

@description('Name of the scheduler.')
param name string

@description('Region of the scheduler (keep it with the app).')
param location string

@description('Tags for the scheduler.')
param tags object = {}

@description('Task hub name: the same value as CP_TASK_HUB, which host.json uses as hubName.')
@minLength(3)
@maxLength(64)
param taskHubName string

@description('Scheduler SKU: Consumption (pay per action) or Dedicated.')
@allowed(['Consumption', 'Dedicated'])
param skuName string = 'Consumption'

@description('Capacity units on the Dedicated SKU (Learn, "Durable Task Scheduler Dedicated SKU": each CU serves up to 2,000 actions/s; 3 for high availability). Ignored on Consumption.')
@minValue(1)
@maxValue(3)
param capacityUnits int = 1

@description('Principal (object) id of the control plane\'s identity.')
param principalId string

// Built-in role (Learn: role-based-access-control/built-in-roles): Durable Task Data Contributor.
var durableTaskDataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // The scheduler's network allow-list (an empty list refuses everyone); access is by Entra role.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
    sku: skuName == 'Dedicated' ? {
      name: skuName
      capacity: capacityUnits
    } : {
      name: skuName
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

resource dataAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, principalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
