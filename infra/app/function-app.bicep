// The control plane's Function App on Flex Consumption (FC1): one plan, one app (Flex allows one app
// per plan), Python, code run from a private blob container reached with the app's user-assigned
// identity. Follows Microsoft's azure-functions-flex-consumption-samples IaC/bicep/main.bicep and
// functions-quickstart-python-http-azd infra/app/api.bicep, written out as plain resources (no
// registry modules) so that checkov and tests/infra can see every property.
//
// Flex takes runtime, version and code location from functionAppConfig; the app settings Flex
// deprecates (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE,
// WEBSITE_CONTENTSHARE, ...) are never set (Learn: functions-app-settings, "Flex Consumption plan
// deprecations"); tests/infra checks the settings against the product's own list.

@description('Name of the Function App (its host is <name>.azurewebsites.net).')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of plan and app.')
param location string

@description('Tags for plan and app (the app also gets azd-service-name).')
param tags object = {}

@description('azd service this app implements (azure.yaml services.<name>).')
param serviceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('URL of the blob container the app runs its package from.')
param deploymentContainerUrl string

@description('Python version of the app (Flex functionAppConfig.runtime.version).')
param pythonVersion string

@description('Memory of each instance, in MB (Flex instance sizes).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app may scale out to.')
@minValue(1) // Learn: event-driven-scaling, "Limit scale-out" (Flex): 1-1000; 40 was the preview's floor
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Always-ready instances for the durable group (orchestrations and activities).')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstances int = 1

@description('Every app setting, name to string value (built in app-settings.bicep).')
param appSettings object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux: Flex Consumption runs only on Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    siteConfig: {
      // No ftpsState: Flex has no FTP publishing and lists the property among its deprecations
      // (Learn: flex-consumption-plan, "Deprecated properties").
      minTlsVersion: '1.2'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // Learn: durable-functions-azure-storage-provider, "Flex Consumption plan": keep one instance
        // of the durable group always ready so orchestrations do not wait on a cold start.
        alwaysReady: [
          {
            name: 'durable'
            instanceCount: durableAlwaysReadyInstances
          }
        ]
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// No publishing passwords: azd and the deploy workflow publish with an Entra token (One Deploy).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output url string = 'https://${site.properties.defaultHostName}'
