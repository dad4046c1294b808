// Log Analytics + workspace-based Application Insights with local (key) authentication off: telemetry
// is accepted only from an Entra identity holding Monitoring Metrics Publisher on the component
// (Learn: azure-monitor/app/azure-ad-authentication; Microsoft's functions-quickstart-python-http-azd
// sets disableLocalAuth on its component the same way).

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Region of both.')
param location string

@description('Tags for both.')
param tags object = {}

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource component 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output applicationInsightsId string = component.id
output applicationInsightsName string = component.name
// Not a secret: with local auth off the instrumentation key alone can send nothing (Learn, as above).
output connectionString string = component.properties.ConnectionString
