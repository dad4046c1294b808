// Opt-in (main.bicep useEventGrid): an Event Grid topic for the control plane's lifecycle events
// (CloudEvents 1.0), with local (key) auth off so that only Entra identities publish, and the EventGrid
// Data Sender role for the control plane's identity on it (Learn: event-grid/authenticate-with-microsoft-entra-id,
// role-based-access-control/built-in-roles). The control plane reads the endpoint from CP_EVENTGRID_ENDPOINT.

@description('Name of the topic.')
param name string

@description('Region of the topic.')
param location string

@description('Tags for the topic.')
param tags object = {}

@description('Principal (object) id of the control plane\'s identity.')
param principalId string

var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource senderAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = topic.properties.endpoint
