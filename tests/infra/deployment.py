"""`azd provision` of our app settings, offline: azd's parameter substitution, then main.bicep, then
app-settings.bicep, evaluated with tests/infra/bicep.py.

azd fills infra/main.parameters.json from its environment (Azure/azure-dev
cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go, loadParameters, evalParamEnvSubst and
armParameterFileValue; the substitution is github.com/drone/envsubst v1.0.3):

- ``${VAR}`` is replaced by the variable's value; ``${VAR:-default}`` (also ``=``, ``:=``) by the
  default when the value is empty, whether unset or set to ``""`` (envsubst's ``toDefault``).
- A parameter whose variable is unset and whose result is ``""`` is left out: the Bicep default applies.
- A variable that is set but empty counts as given (GitHub Actions expands a missing ``vars.X`` to
  ``""``). For an array or object parameter the result is parsed as JSON, so ``""`` fails the
  deployment; JSON ``null`` is a value azd then treats as not configured (armParameterFileValue
  returns nil and the Bicep default applies).
- For bool and int parameters a convertible string is converted; any other string (``""`` too) is
  dropped and the Bicep default applies. A string parameter set to ``""`` is passed as ``""`` unless
  that equals its default.

That is what ``azd_parameters`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.infra.bicep import BicepFile, Evaluator, string_literal

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
PARAMETERS_FILE = INFRA / "main.parameters.json"
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]([^}]*))?\}")

IDENTITY_CLIENT_ID = "5d3c0b9e-8f1a-4c8e-9d2b-0a1b2c3d4e5f"
IDENTITY_PRINCIPAL_ID = "8e2f7a61-3b4c-4d5e-8f90-112233445566"
ACCOUNT = "stcpexample123"
TASK_HUB_ACCOUNT = "stcphubexample123"
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
    "taskHubStorage.outputs.name": TASK_HUB_ACCOUNT,
    "taskHubStorage.outputs.blobEndpoint": f"https://{TASK_HUB_ACCOUNT}.blob.core.windows.net/",
    "taskHubStorage.outputs.queueEndpoint": f"https://{TASK_HUB_ACCOUNT}.queue.core.windows.net/",
    "taskHubStorage.outputs.tableEndpoint": f"https://{TASK_HUB_ACCOUNT}.table.core.windows.net/",
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


class AzdParameterError(ValueError):
    """azd refuses the parameters file before deploying (bicep_provider.go: "is not valid JSON")."""


def azd_parameters(env: Mapping[str, str]) -> dict[str, Any]:
    """The parameter values azd would pass to main.bicep from this azd environment."""
    return azd_parameters_from(parameters_file(), env)


def azd_parameters_from(entries: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """azd's loadParameters over these parameters-file entries."""
    main = BicepFile(MAIN)
    resolved: dict[str, Any] = {}
    for name, entry in entries.items():
        template = entry["value"]
        unset = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal unset
            value = env.get(match.group(1))
            if value is None:
                unset = True
                value = ""
            if value == "" and match.group(2) is not None:
                return match.group(2)  # envsubst's toDefault: empty or unset
            return value

        value = _ENV_REFERENCE.sub(substitute, template) if isinstance(template, str) else template
        if unset and value == "":
            continue  # azd leaves the parameter out: the Bicep default applies
        kind = main.params[name].type_name
        if kind in ("array", "object"):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as error:
                raise AzdParameterError(
                    f"substituting parameter '{name}' ({kind}): value '{value}' is not valid JSON"
                ) from error
            if parsed is not None:
                resolved[name] = parsed
        elif kind == "bool":
            flag = _GO_PARSE_BOOL.get(value)
            if flag is not None:
                resolved[name] = flag
        elif kind == "int":
            if re.fullmatch(r"[+-]?[0-9]+", value):
                resolved[name] = int(value)
        else:
            default = main.params[name].value
            default_text = string_literal(default) if default is not None and default.type == "string" else None
            if value != "" or (default_text is not None and default_text != ""):
                resolved[name] = value
    return resolved


# Go's strconv.ParseBool, which armParameterFileValue uses.
_GO_PARSE_BOOL = {
    **dict.fromkeys(["1", "t", "T", "TRUE", "true", "True"], True),
    **dict.fromkeys(["0", "f", "F", "FALSE", "false", "False"], False),
}


def main_evaluator(env: Mapping[str, str]) -> Evaluator:
    return Evaluator(BicepFile(MAIN), azd_parameters(env), MODULE_OUTPUTS)


def app_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The app settings the Function App would get, provisioned from this azd environment."""
    main = main_evaluator(env)
    module = main.file.module_file("appSettings")
    return Evaluator(module, main.module_params("appSettings")).output("appSettings")


BASE_ENV = {"AZURE_ENV_NAME": "dev", "AZURE_LOCATION": "eastus2"}
