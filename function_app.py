"""The control plane's Function App: one DFApp, one blueprint per concern."""

import azure.durable_functions as df
import azure.functions as func

from activities import blueprint as activities
from http_api import blueprint as http_api
from orchestrators import blueprint as orchestrators

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(http_api)
app.register_functions(orchestrators)
app.register_functions(activities)
