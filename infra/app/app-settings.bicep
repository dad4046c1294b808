// Every app setting the control plane's Function App gets, built in one place from plain inputs. No
// resources: a module so that tests/infra can evaluate exactly this object and feed it to the product's
// own settings loader (controlplane.settings.load_settings) — a setting renamed in the code but not
// here fails a test, not a deployment.
//
// Nothing here is a secret and nothing needs one: storage, Application Insights, the Durable Task
// Scheduler and Event Grid are all reached with the user-assigned identity (AZURE_CLIENT_ID, which
// azure-identity's DefaultAzureCredential uses as the managed identity's client id).

// --- Where things are (from the other modules) ---------------------------------------------------

@description('Blob endpoint of the control plane\'s storage account (https://<account>.blob.<suffix>/).')
param storageBlobEndpoint string

@description('Queue endpoint of the same account.')
param storageQueueEndpoint string

@description('Table endpoint of the same account: the registry.')
param storageTableEndpoint string

@description('Blob endpoint of the task hub\'s own storage account; empty with the Durable Task Scheduler.')
param taskHubBlobEndpoint string = ''

@description('Queue endpoint of the task hub\'s account.')
param taskHubQueueEndpoint string = ''

@description('Table endpoint of the task hub\'s account.')
param taskHubTableEndpoint string = ''

@description('Client id of the user-assigned identity the app runs as.')
param identityClientId string

@description('Application Insights connection string (not a secret with local auth off).')
param applicationInsightsConnectionString string

@description('Durable Task Scheduler endpoint; empty: Durable Functions on Azure Storage.')
param durableTaskSchedulerEndpoint string = ''

@description('Event Grid topic endpoint for lifecycle events; empty: no topic.')
param eventGridEndpoint string = ''

// --- What the control plane is told (main.bicep parameters) --------------------------------------

@description('CP_REGISTRY_TABLE.')
param registryTable string

@description('CP_TASK_HUB: the Durable task hub (host.json reads it as hubName).')
param taskHubName string

@description('CP_SUBSCRIPTION_ID: the default subscription.')
param subscriptionId string

@description('CP_SUBSCRIPTION_POOL as a list of {subscription_id, regions, ...}; empty: CP_SUBSCRIPTION_ID alone.')
param subscriptionPool array = []

@description('CP_AUTH as an object (issuers, operator_key_hashes, platform_auth); empty: every call is 401.')
param auth object = {}

@description('CP_ENV_KEYS as an object of app setting names to values (Key Vault references welcome).')
param envKeys object = {}

@description('CP_ARM_ENDPOINT (the cloud\'s Resource Manager).')
param armEndpoint string

@description('Maximum Durable queue polling interval on Azure Storage (Microsoft: 10 s or less on Flex).')
param durableQueuePollingInterval string = '00:00:10'

// Optional CP_* settings: an empty value leaves the code's own default (nothing is written).

@description('CP_PACKAGE_URL_TEMPLATE.')
param packageUrlTemplate string = ''

@description('CP_DEFAULT_DEPLOY_REF.')
param defaultDeployRef string = ''

@description('CP_DEFAULT_REGION.')
param defaultRegion string = ''

@description('CP_ALLOWED_REGIONS (comma-separated).')
param allowedRegions string = ''

@description('CP_DEFAULT_RUNTIME_TARGET.')
param defaultRuntimeTarget string = ''

@description('CP_ORG_TAG.')
param orgTag string = ''

@description('CP_BRAINSTEM_URL_TEMPLATE.')
param brainstemUrlTemplate string = ''

@description('CP_OWNER_QUOTA.')
param ownerQuota string = ''

@description('CP_OPERATORS_QUOTA_EXEMPT.')
param operatorsQuotaExempt string = ''

@description('CP_FLEX_INSTANCE_MEMORY_MB.')
param flexInstanceMemoryMB string = ''

@description('CP_FLEX_MAXIMUM_INSTANCE_COUNT.')
param flexMaximumInstanceCount string = ''

@description('CP_ARM_WRITES_PER_SECOND.')
param armWritesPerSecond string = ''

@description('CP_ARM_WRITE_BURST.')
param armWriteBurst string = ''

@description('CP_CALLBACK_ALLOWED_HOSTS: hosts callback_url may name (comma-separated; *.example.com for subdomains).')
param callbackAllowedHosts string = ''

@description('Key Vault secret URI of CP_CALLBACK_SIGNING_KEY (whsec_...); the app setting is a Key Vault reference, never the key.')
param callbackSigningKeySecretUri string = ''

@description('More app settings (tuning such as CP_READINESS_TIMEOUT_SECONDS); never override the ones above.')
param extraAppSettings object = {}

var useDurableTaskScheduler = !empty(durableTaskSchedulerEndpoint)

// The Functions host's own storage, by identity: service URIs + credential + client id (Learn:
// functions-reference, "Connecting to host storage with an identity"; the same four settings as
// Microsoft's functions-quickstart-python-http-azd infra/app/api.bicep). No AzureWebJobsStorage
// connection string exists, so the control plane cannot fall back to one.
var hostStorage = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
}

var platform = {
  // azure-identity's DefaultAzureCredential picks the user-assigned identity by this client id.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  // Entra auth for telemetry (Learn: azure-functions/configure-monitoring, "Enable Microsoft Entra authentication").
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // The Python worker sends its logs and traces through OpenTelemetry itself, so the host does not send
  // them a second time (Learn: azure-functions/opentelemetry-howto, Python: "Enable OpenTelemetry in your app").
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  // The root URL answers 404 instead of a landing page that says which platform serves it.
  AzureWebJobsDisableHomepage: 'true'
  // Activities wait on ARM's long-running operations in the Python worker's thread pool: the
  // documented maximum, not the default min(32, CPUs + 4) (Learn: python-scale-performance-reference).
  PYTHON_THREADPOOL_THREAD_COUNT: '32'
}

// Durable on Azure Storage: the task hub on its own account, reached by identity through the
// connection TaskHubStorage (Learn: durable-functions-azure-storage-provider, "Connections" and
// "Identity-based connections": storageProvider.connectionName names a prefix of
// <prefix>__blobServiceUri/__queueServiceUri/__tableServiceUri settings, with __credential and
// __clientId for a user-assigned identity; durable-functions-configure-managed-identity: Durable takes
// clientId, not managedIdentityResourceId), and the queues polled at most every 10 s (same page,
// "Flex Consumption plan"). The connection is named here, not in host.json: the Durable extension reads
// storageProvider.connectionName before connectionStringName (azure-functions-durable-extension
// FunctionsScale/TriggerMetadataExtensions.cs ResolveConnectionName), so a connectionName in host.json
// would outrank the scheduler's connectionStringName below, and local runs keep AzureWebJobsStorage.
// With the Durable Task Scheduler instead: the azureManaged provider over host.json's storageProvider,
// reached by identity (Learn: durable-task-scheduler "Configure identity-based authentication";
// Azure-Samples/Durable-Task-Scheduler samples/durable-functions/python). Host.json values are
// overridden with AzureFunctionsJobHost__ settings (Learn: functions-app-settings, AzureFunctionsJobHost__*).
var durableOnStorage = {
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__maxQueuePollingInterval: durableQueuePollingInterval
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName: 'TaskHubStorage'
  TaskHubStorage__credential: 'managedidentity'
  TaskHubStorage__clientId: identityClientId
  TaskHubStorage__blobServiceUri: taskHubBlobEndpoint
  TaskHubStorage__queueServiceUri: taskHubQueueEndpoint
  TaskHubStorage__tableServiceUri: taskHubTableEndpoint
}
var durableOnScheduler = {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
}
var durable = useDurableTaskScheduler ? durableOnScheduler : durableOnStorage

// What the control plane reads (controlplane/settings): the registry by identity at its table
// endpoint, ARM with DefaultAzureCredential.
var controlPlane = {
  CP_TABLE_ENDPOINT: storageTableEndpoint
  CP_REGISTRY_TABLE: registryTable
  CP_TASK_HUB: taskHubName
  CP_SUBSCRIPTION_ID: subscriptionId
  CP_ARM_ENDPOINT: armEndpoint
  CP_ARM_CREDENTIAL: 'default'
}

// The JSON-valued settings, only when given (unset: the code's own default).
var jsonSettings = union(
  empty(subscriptionPool) ? {} : { CP_SUBSCRIPTION_POOL: string(subscriptionPool) },
  empty(auth) ? {} : { CP_AUTH: string(auth) },
  empty(envKeys) ? {} : { CP_ENV_KEYS: string(envKeys) },
  empty(eventGridEndpoint) ? {} : { CP_EVENTGRID_ENDPOINT: eventGridEndpoint }
)

// CP_CALLBACK_SIGNING_KEY is a Key Vault reference, which App Service resolves with the app's
// identity (Learn: app-service-key-vault-references): the key itself is never in the deployment.
// Optional plain settings: only those given a value. (Written out one by one, without lambdas, so
// that checkov's Bicep parser reads this file too.)
var chosenSettings = union(
  empty(packageUrlTemplate) ? {} : { CP_PACKAGE_URL_TEMPLATE: packageUrlTemplate },
  empty(defaultDeployRef) ? {} : { CP_DEFAULT_DEPLOY_REF: defaultDeployRef },
  empty(defaultRegion) ? {} : { CP_DEFAULT_REGION: defaultRegion },
  empty(allowedRegions) ? {} : { CP_ALLOWED_REGIONS: allowedRegions },
  empty(defaultRuntimeTarget) ? {} : { CP_DEFAULT_RUNTIME_TARGET: defaultRuntimeTarget },
  empty(orgTag) ? {} : { CP_ORG_TAG: orgTag },
  empty(brainstemUrlTemplate) ? {} : { CP_BRAINSTEM_URL_TEMPLATE: brainstemUrlTemplate },
  empty(ownerQuota) ? {} : { CP_OWNER_QUOTA: ownerQuota },
  empty(operatorsQuotaExempt) ? {} : { CP_OPERATORS_QUOTA_EXEMPT: operatorsQuotaExempt },
  empty(flexInstanceMemoryMB) ? {} : { CP_FLEX_INSTANCE_MEMORY_MB: flexInstanceMemoryMB },
  empty(flexMaximumInstanceCount) ? {} : { CP_FLEX_MAXIMUM_INSTANCE_COUNT: flexMaximumInstanceCount },
  empty(armWritesPerSecond) ? {} : { CP_ARM_WRITES_PER_SECOND: armWritesPerSecond },
  empty(armWriteBurst) ? {} : { CP_ARM_WRITE_BURST: armWriteBurst },
  empty(callbackAllowedHosts) ? {} : { CP_CALLBACK_ALLOWED_HOSTS: callbackAllowedHosts },
  empty(callbackSigningKeySecretUri) ? {} : { CP_CALLBACK_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${callbackSigningKeySecretUri})' }
)

// Later objects win in union(): nothing in extraAppSettings replaces identity, storage or durable wiring.
output appSettings object = union(extraAppSettings, chosenSettings, jsonSettings, controlPlane, durable, platform, hostStorage)
