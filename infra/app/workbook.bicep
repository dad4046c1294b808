// An Azure Monitor workbook over the control plane's own telemetry: operations by outcome, failures by
// step and ARM error code, time to ready, ARM 429s and waits in the ARM write budget — the portal's
// copy of what /api/cp/dashboard shows from the registry. Resource shape: Learn, "Microsoft.Insights
// workbooks" (azure/templates/microsoft.insights/workbooks, API 2023-06-01: kind 'shared', a GUID
// name, serializedData a JSON string of version 'Notebook/1.0', sourceId the Application Insights
// component it opens on). The workbook's items live in workbook.json beside this file (its queries
// name the metrics of controlplane/telemetry/metrics.py; tests/infra/test_workbook.py holds them to it).

@description('The Application Insights component the workbook reads (its resource id).')
param applicationInsightsId string

@description('Region of the workbook.')
param location string

@description('Tags for the workbook.')
param tags object = {}

@description('The workbook title shown in the portal.')
param displayName string = 'Twin Stack control plane'

var definition = loadJsonContent('workbook.json')

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsightsId, 'twinstack-control-plane-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: applicationInsightsId
    serializedData: string(union(definition, { fallbackResourceIds: [applicationInsightsId] }))
  }
}

output workbookId string = workbook.id
