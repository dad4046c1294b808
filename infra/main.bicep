// `azd up` for the Twin Stack control plane: its Function App on Flex Consumption, reaching everything
// with one user-assigned identity and no key, plus that identity's roles in every subscription of the
// pool it places twins in. Layout as Microsoft's azd Functions templates (Azure-Samples/
// functions-quickstart-python-http-azd, durable-functions-quickstart-python-azd, azure-functions-flex-
// consumption-samples IaC/bicep): subscription-scope main.bicep, one resource group, small modules
// under app/. README "Deploy to Azure" says what the person running it must hold.
targetScope = 'subscription'

// --- Where -----------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('azd environment name: names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create or reuse; empty: rg-<environmentName>.')
param resourceGroupName string = ''

// --- The Function App --------------------------------------------------------------------------------

// What Flex offers for Python: Microsoft's stack list (az functionapp list-flexconsumption-runtimes;
// Microsoft.Web functionAppStacks) has 3.10-3.13; Learn's Flex language table stops at 3.12. The
// default is the version the test suite runs on (Makefile); the others are offered for a platform
// team that pins an older worker, not tested here.
@description('Python of the Function App (Flex functionAppConfig.runtime.version); default: the version the tests run on.')
@allowed(['3.10', '3.11', '3.12', '3.13'])
param pythonVersion string = '3.13'

@description('Memory of each instance of the control plane, in MB.')
@allowed([512, 2048, 4096])
param appInstanceMemoryMB int = 2048

@description('Most instances the control plane scales out to (they share one ARM budget per subscription, kept in the registry).')
@minValue(1) // Learn: event-driven-scaling, "Limit scale-out" (Flex): 1-1000; 40 was the preview's floor
@maxValue(1000)
param appMaximumInstanceCount int = 40

@description('Always-ready instances for the durable group (Microsoft recommends 1 for Durable on Flex).')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstances int = 1

@description('Durable Functions on the Durable Task Scheduler instead of a task hub storage account of its own.')
param useDurableTaskScheduler bool = false

@description('Durable Task Scheduler SKU, when used.')
@allowed(['Consumption', 'Dedicated'])
param durableTaskSchedulerSku string = 'Consumption'

@description('Durable Task Scheduler capacity units on Dedicated (2,000 actions/s each; a 100k-twin fleet needs Dedicated: docs/fleet-scale.md).')
@minValue(1)
@maxValue(3)
param durableTaskSchedulerCapacityUnits int = 1

@description('An Event Grid topic for lifecycle events (CP_EVENTGRID_ENDPOINT), published with the app\'s identity.')
param useEventGrid bool = false

// --- What the control plane is told (README, Settings) -------------------------------------------

@description('CP_REGISTRY_TABLE: the registry table (created here, with its <name>meta and <name>rollouts companions).')
param registryTable string = 'brainstems'

@description('CP_TASK_HUB: the Durable task hub.')
param taskHubName string = 'TwinStackControlPlane'

@description('CP_SUBSCRIPTION_ID: the default subscription; empty: the subscription deployed to.')
param subscriptionId string = ''

@description('CP_SUBSCRIPTION_POOL: [{subscription_id, regions, max_twins_per_region?, max_resource_groups?}]; the identity gets its roles in each.')
param subscriptionPool array = []

@description('CP_AUTH: {issuers, operator_key_hashes, platform_auth}. Empty: every call is 401 until it is set.')
param auth object = {}

@description('CP_ENV_KEYS: app settings given to every brainstem (values may be Key Vault references).')
param envKeys object = {}

@description('CP_PACKAGE_URL_TEMPLATE: the brainstem package for {deploy_ref}; empty: the code\'s default.')
param packageUrlTemplate string = ''

@description('CP_DEFAULT_DEPLOY_REF; empty: the code\'s default.')
param defaultDeployRef string = ''

@description('CP_DEFAULT_REGION; empty: the code\'s default.')
param defaultRegion string = ''

@description('CP_ALLOWED_REGIONS (comma-separated); empty: the code\'s default.')
param allowedRegions string = ''

@description('CP_DEFAULT_RUNTIME_TARGET; empty: the code\'s default.')
param defaultRuntimeTarget string = ''

@description('CP_ORG_TAG; empty: the code\'s default.')
param orgTag string = ''

@description('CP_BRAINSTEM_URL_TEMPLATE; empty: the code\'s default (https://{host}).')
param brainstemUrlTemplate string = ''

@description('CP_OWNER_QUOTA; empty: the code\'s default.')
param ownerQuota string = ''

@description('CP_OPERATORS_QUOTA_EXEMPT (true/false); empty: the code\'s default.')
param operatorsQuotaExempt string = ''

@description('CP_FLEX_INSTANCE_MEMORY_MB for Flex twins; empty: the code\'s default.')
param flexInstanceMemoryMB string = ''

@description('CP_FLEX_MAXIMUM_INSTANCE_COUNT for Flex twins; empty: the code\'s default.')
param flexMaximumInstanceCount string = ''

@description('CP_ARM_WRITES_PER_SECOND; empty: the code\'s default.')
param armWritesPerSecond string = ''

@description('CP_ARM_WRITE_BURST; empty: the code\'s default.')
param armWriteBurst string = ''

@description('CP_CALLBACK_ALLOWED_HOSTS: hosts a create\'s callback_url may name; empty: callbacks off. Needs CP_CALLBACK_SIGNING_KEY (a Key Vault reference, set after deploy).')
param callbackAllowedHosts string = ''

@description('Key Vault secret URI holding CP_CALLBACK_SIGNING_KEY; give the identity Key Vault Secrets User on that vault.')
param callbackSigningKeySecretUri string = ''

@description('Further app settings by name (timeouts, retry tuning); they never replace the identity, storage or Durable wiring.')
param extraAppSettings object = {}

// --- Names -----------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-cp-${resourceToken}'
// As Microsoft's templates name theirs: app-package-<app>-<token>.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var defaultSubscriptionId = toLower(empty(subscriptionId) ? subscription().subscriptionId : subscriptionId)
var listedSubscriptionIds = [for entry in subscriptionPool: toLower(entry.subscription_id)]
// Every subscription twins may land in (the default one, and each pool entry), once each.
var poolSubscriptionIds = union([defaultSubscriptionId], listedSubscriptionIds)

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-cp-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'stcp${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    // The registry's tables (controlplane/registry/brainstem_registry.py BrainstemRegistry.table_names):
    // rows, counts/capacity/ARM budget, rollouts, the audit trail. Requests never create tables; the deployment does.
    tableNames: [
      registryTable
      '${registryTable}meta'
      '${registryTable}rollouts'
      '${registryTable}audit'
    ]
  }
}

// Durable on Azure Storage keeps its task hub on an account of its own (Learn:
// durable-functions-azure-storage-provider, "Storage account selection": for performance-sensitive
// workloads a storage account other than AzureWebJobsStorage, so Durable's heavy queue, table and
// blob traffic is isolated from the host's and, here, from the registry's 20,000 transactions/s).
// StorageV2: Learn's cheaper general-purpose v1 is a legacy kind Microsoft is retiring. With the
// Durable Task Scheduler there is no task hub in storage, so no such account.
module taskHubStorage 'app/storage.bicep' = if (!useDurableTaskScheduler) {
  name: 'taskHubStorage'
  scope: rg
  params: {
    name: 'stcphub${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-cp-${resourceToken}'
    applicationInsightsName: 'appi-cp-${resourceToken}'
    location: location
    tags: tags
  }
}

// The portal's picture of the same telemetry (operations, time to ready, ARM 429s, budget waits).
module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    location: location
    tags: tags
  }
}

module scheduler 'app/durable-task-scheduler.bicep' = if (useDurableTaskScheduler) {
  name: 'durableTaskScheduler'
  scope: rg
  params: {
    name: 'dts-cp-${resourceToken}'
    location: location
    tags: tags
    taskHubName: taskHubName
    skuName: durableTaskSchedulerSku
    capacityUnits: durableTaskSchedulerCapacityUnits
    principalId: identity.outputs.principalId
  }
}

module eventGrid 'app/event-grid.bicep' = if (useEventGrid) {
  name: 'eventGrid'
  scope: rg
  params: {
    name: 'evgt-cp-${resourceToken}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module appSettings 'app/app-settings.bicep' = {
  name: 'appSettings'
  scope: rg
  params: {
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    taskHubBlobEndpoint: !useDurableTaskScheduler ? taskHubStorage.outputs.blobEndpoint : ''
    taskHubQueueEndpoint: !useDurableTaskScheduler ? taskHubStorage.outputs.queueEndpoint : ''
    taskHubTableEndpoint: !useDurableTaskScheduler ? taskHubStorage.outputs.tableEndpoint : ''
    identityClientId: identity.outputs.clientId
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    durableTaskSchedulerEndpoint: useDurableTaskScheduler ? scheduler.outputs.endpoint : ''
    eventGridEndpoint: useEventGrid ? eventGrid.outputs.endpoint : ''
    registryTable: registryTable
    taskHubName: taskHubName
    subscriptionId: defaultSubscriptionId
    subscriptionPool: subscriptionPool
    auth: auth
    envKeys: envKeys
    armEndpoint: environment().resourceManager
    packageUrlTemplate: packageUrlTemplate
    defaultDeployRef: defaultDeployRef
    defaultRegion: defaultRegion
    allowedRegions: allowedRegions
    defaultRuntimeTarget: defaultRuntimeTarget
    orgTag: orgTag
    brainstemUrlTemplate: brainstemUrlTemplate
    ownerQuota: ownerQuota
    operatorsQuotaExempt: operatorsQuotaExempt
    flexInstanceMemoryMB: flexInstanceMemoryMB
    flexMaximumInstanceCount: flexMaximumInstanceCount
    armWritesPerSecond: armWritesPerSecond
    armWriteBurst: armWriteBurst
    callbackAllowedHosts: callbackAllowedHosts
    callbackSigningKeySecretUri: callbackSigningKeySecretUri
    extraAppSettings: extraAppSettings
  }
}

module app 'app/function-app.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-cp-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    pythonVersion: pythonVersion
    instanceMemoryMB: appInstanceMemoryMB
    maximumInstanceCount: appMaximumInstanceCount
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    appSettings: appSettings.outputs.appSettings
  }
  // The app's first start reads storage and telemetry with its identity: grant before it starts.
  dependsOn: [
    ownRoles
    taskHubRoles
  ]
}

module ownRoles 'app/own-roles.bicep' = {
  name: 'ownRoles'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: identity.outputs.principalId
  }
}

// Durable's three data roles on the task hub's account, and on no other.
module taskHubRoles 'app/task-hub-roles.bicep' = if (!useDurableTaskScheduler) {
  name: 'taskHubRoles'
  scope: rg
  params: {
    storageAccountName: !useDurableTaskScheduler ? taskHubStorage.outputs.name : ''
    principalId: identity.outputs.principalId
  }
}

// Contributor and RBAC Administrator (ABAC-constrained) in each pool subscription, nothing more;
// the person running azd needs the right to assign roles there (README).
module poolRoles 'app/pool-subscription-roles.bicep' = [
  for poolSubscriptionId in poolSubscriptionIds: {
    name: 'cp-pool-roles-${take(poolSubscriptionId, 8)}-${resourceToken}'
    scope: subscription(poolSubscriptionId)
    params: {
      principalId: identity.outputs.principalId
    }
  }
]

// --- azd outputs (written to .azure/<env>/.env) ----------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = app.outputs.name
output AZURE_FUNCTION_URL string = app.outputs.url
output SERVICE_API_NAME string = app.outputs.name
output CONTROL_PLANE_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output CONTROL_PLANE_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output CONTROL_PLANE_STORAGE_ACCOUNT string = storage.outputs.name
output CONTROL_PLANE_TASK_HUB_STORAGE_ACCOUNT string = !useDurableTaskScheduler ? taskHubStorage.outputs.name : ''
output CONTROL_PLANE_POOL_SUBSCRIPTIONS array = poolSubscriptionIds
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
