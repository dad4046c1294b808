"""`azd provision` of our app settings, offline: azd's parameter substitution, then main.bicep, then
app-settings.bicep, evaluated with tests/infra/bicep.py.

azd fills infra/main.parameters.json from its environment (Azure/azure-dev
cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go, loadParameters and armParameterFileValue):
``${VAR}`` is replaced by the variable's value; a parameter whose variable is unset is left out (the
Bicep default applies); for an array or object parameter the value is parsed as JSON; for bool and int
parameters a convertible string is converted. That is what ``azd_parameters`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.infra.bicep import BicepFile, Evaluator

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
PARAMETERS_FILE = INFRA / "main.parameters.json"
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}")

IDENTITY_CLIENT_ID = "5d3c0b9e-8f1a-4c8e-9d2b-0a1b2c3d4e5f"
IDENTITY_PRINCIPAL_ID = "8e2f7a61-3b4c-4d5e-8f90-112233445566"
ACCOUNT = "stcpexample123"
# What ARM knows only while deploying: the other modules' outputs, as main.bicep reads them.
MODULE_OUTPUTS = {
    "identity.outputs.id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
    "identity.outputs.clientId": IDENTITY_CLIENT_ID,
    "identity.outputs.principalId": IDENTITY_PRINCIPAL_ID,
    "storage.outputs.name": ACCOUNT,
    "storage.outputs.blobEndpoint": f"https://{ACCOUNT}.blob.core.windows.net/",
    "storage.outputs.queueEndpoint": f"https://{ACCOUNT}.queue.core.windows.net/",
    "storage.outputs.tableEndpoint": f"https://{ACCOUNT}.table.core.windows.net/",
    "storage.outputs.deploymentContainerUrl": f"https://{ACCOUNT}.blob.core.windows.net/app-package-x",
    "monitoring.outputs.connectionString": "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://eastus2-3.in.applicationinsights.azure.com/",
    "monitoring.outputs.applicationInsightsName": "appi-cp-example",
    "scheduler.outputs.endpoint": "https://dts-cp-example.eastus2.durabletask.io",
    "eventGrid.outputs.endpoint": "https://evgt-cp-example.eastus2-1.eventgrid.azure.net/api/events",
    "appSettings.outputs.appSettings": {},
    "app.outputs.name": "func-cp-example",
    "app.outputs.url": "https://func-cp-example.azurewebsites.net",
    "rg.name": "rg-dev",
}


def parameters_file() -> dict[str, Any]:
    return json.loads(PARAMETERS_FILE.read_text())["parameters"]


def env_references(value: object) -> list[str]:
    return [match.group(1) for match in _ENV_REFERENCE.finditer(json.dumps(value))]


def azd_parameters(env: Mapping[str, str]) -> dict[str, Any]:
    """The parameter values azd would pass to main.bicep from this azd environment."""
    main = BicepFile(MAIN)
    resolved: dict[str, Any] = {}
    for name, entry in parameters_file().items():
        template = entry["value"]
        unset = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal unset
            if match.group(1) in env:
                return env[match.group(1)]
            if match.group(2) is not None:
                return match.group(2)
            unset = True
            return ""

        value = _ENV_REFERENCE.sub(substitute, template) if isinstance(template, str) else template
        if unset and value == "":
            continue  # azd leaves the parameter out: the Bicep default applies
        kind = main.params[name].type_name
        if kind in ("array", "object"):
            resolved[name] = json.loads(value)
        elif kind == "bool":
            resolved[name] = {"true": True, "false": False, "1": True, "0": False}[value.lower()]
        elif kind == "int":
            resolved[name] = int(value)
        else:
            resolved[name] = value
    return resolved


def main_evaluator(env: Mapping[str, str]) -> Evaluator:
    return Evaluator(BicepFile(MAIN), azd_parameters(env), MODULE_OUTPUTS)


def app_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The app settings the Function App would get, provisioned from this azd environment."""
    main = main_evaluator(env)
    module = main.file.module_file("appSettings")
    return Evaluator(module, main.module_params("appSettings")).output("appSettings")


BASE_ENV = {"AZURE_ENV_NAME": "dev", "AZURE_LOCATION": "eastus2"}
