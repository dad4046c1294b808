// The control plane's own identity: user-assigned, so it exists before the Function App, outlives a
// redeploy of it, and can be granted roles (here and in every pool subscription) before the app runs.
// Microsoft's durable-functions-quickstart-python-azd (infra/main.bicep) gives its app a user-assigned
// identity for the same reasons; Learn "Configure managed identity for Durable Task Scheduler" prefers
// user-assigned identities because they are not tied to the app's lifecycle.

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags for the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
