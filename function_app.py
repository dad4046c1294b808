"""The control plane's Function App: one DFApp, one blueprint per concern."""

import azure.durable_functions as df
import azure.functions as func

import activities
import http_api
import orchestrators
from controlplane.telemetry import instrument_activities, setup_telemetry

# Exports to Application Insights only when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
setup_telemetry()
instrument_activities(activities.blueprints)
# ANONYMOUS at the host: every route authenticates its caller itself (controlplane.auth: OIDC bearer
# tokens, operator keys). DFApp's level is what every blueprint's HTTP trigger gets in the indexed
# metadata; at FUNCTION the host would refuse every caller without a function key before our code ran.
app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (*http_api.blueprints, *orchestrators.blueprints, *activities.blueprints):
    app.register_functions(blueprint)
