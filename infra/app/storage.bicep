// A storage account of the control plane, used twice by main.bicep: the app's own account (the
// Functions host's storage, AzureWebJobsStorage; the deployment container Flex Consumption runs the
// package from; the registry's tables), and, with Durable on Azure Storage, the task hub's account
// (no container, no table: the Durable extension makes its own queues, tables and blobs). Shared-key
// access is off on both: every reader and writer comes with an Entra identity (Learn:
// storage/common/shared-key-authorization-prevent; the Flex samples in
// Azure-Samples/azure-functions-flex-consumption-samples IaC/bicep/main.bicep set the same properties).

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the account.')
param location string

@description('Tags for the account.')
param tags object = {}

@description('Blob container the Flex Consumption app is deployed from (functionAppConfig.deployment); empty: none.')
param deploymentContainerName string = ''

@description('The registry tables the control plane keeps its rows in; none on the task hub\'s account.')
param tableNames array = []

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // Identity only: no account key, no SAS signed with one, no key in any app setting.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

// A loop over none or one (as the tables are) rather than `if (...)`, so no resource declaration ever
// has an empty name: a child's name must have as many segments as its type (Learn: azure-resource-manager
// troubleshooting, "Resolve errors for resource name and type mismatch").
var deploymentContainerNames = empty(deploymentContainerName) ? [] : [deploymentContainerName]

resource deploymentContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in deploymentContainerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerUrl string = empty(deploymentContainerName) ? '' : '${account.properties.primaryEndpoints.blob}${deploymentContainerName}'
