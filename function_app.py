"""The control plane's Function App: one DFApp, one blueprint per concern."""

import azure.durable_functions as df
import azure.functions as func

import activities
import http_api
import orchestrators

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (*http_api.blueprints, *orchestrators.blueprints, *activities.blueprints):
    app.register_functions(blueprint)
