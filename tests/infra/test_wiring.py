"""What the Bicep compiler and azd would check before deploying, checked here: modules get exactly the
parameters they declare and read only outputs they declare; main.parameters.json sets only declared
parameters, from azd environment variables; azd gets the outputs it and the README rely on; azure.yaml
names the service the Function App is tagged with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from controlplane.settings import Settings
from tests.infra.bicep import BicepFile, properties, string_literal
from tests.infra.deployment import (
    BASE_ENV,
    INFRA,
    MAIN,
    MODULE_OUTPUTS,
    ROOT,
    app_settings,
    env_references,
    main_evaluator,
    parameters_file,
)

FILES_WITH_MODULES = [path for path in sorted(INFRA.rglob("*.bicep")) if BicepFile(path).modules]


def _module_reads(file: BicepFile) -> set[tuple[str, str]]:
    """(module, output) for every `<module>.outputs.<output>` in the file."""
    text = file.path.read_text()
    return {(m, o) for m, o in re.findall(r"\b([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)", text) if m in file.modules}


@pytest.mark.parametrize("path", FILES_WITH_MODULES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_modules_get_the_parameters_they_declare(path: Path) -> None:
    file = BicepFile(path)
    for name, declaration in file.modules.items():
        target = file.module_file(name)
        body = declaration.value
        while body.type in ("if_statement", "for_statement"):
            body = body.named_children[-1]
        passed = set(properties(properties(body)["params"]))
        required = {p for p, d in target.params.items() if d.value is None}
        assert passed <= set(target.params), (
            f"{name}: {sorted(passed - set(target.params))} not declared by {target.path.name}"
        )
        assert required <= passed, f"{name}: {target.path.name} needs {sorted(required - passed)}"


@pytest.mark.parametrize("path", FILES_WITH_MODULES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_module_outputs_read_exist(path: Path) -> None:
    file = BicepFile(path)
    reads = _module_reads(file)
    assert reads
    for module, output in reads:
        assert output in file.module_file(module).outputs, f"{module}.outputs.{output} is not an output"


def test_the_outputs_the_tests_stand_in_for_are_real() -> None:
    main = BicepFile(MAIN)
    for path in MODULE_OUTPUTS:
        symbol, _, rest = path.partition(".")
        if rest.startswith("outputs."):
            assert rest.removeprefix("outputs.") in main.module_file(symbol).outputs, path
        else:
            assert symbol in main.resources, path


def test_every_parameter_in_the_parameters_file_is_declared_and_set_from_the_azd_environment() -> None:
    main = BicepFile(MAIN)
    given = parameters_file()
    assert set(given) <= set(main.params), sorted(set(given) - set(main.params))
    for name, entry in given.items():
        assert env_references(entry["value"]), f"{name} is not taken from an azd environment variable"
    # Without a default azd would prompt: only azd's own environment name and location may be required.
    required = {p for p, d in main.params.items() if d.value is None}
    assert required == {"environmentName", "location"}
    assert given["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert given["location"]["value"] == "${AZURE_LOCATION}"


def test_a_cp_variable_becomes_the_app_setting_of_the_same_name() -> None:
    # For every plain string parameter set from a CP_* azd variable that names a setting of the code:
    # give the variable a value of its own and find it, and only it, in that app setting.
    main = BicepFile(MAIN)
    code = {str(c) for info in Settings.model_fields.values() for c in getattr(info.validation_alias, "choices", [])}
    variables = {
        env_references(entry["value"])[0]: name
        for name, entry in parameters_file().items()
        if main.params[name].type_name == "string" and env_references(entry["value"])[0] in code
    }
    assert len(variables) >= 15
    env = {**BASE_ENV, **{variable: f"value-of-{variable.lower()}" for variable in variables}}
    written = app_settings(env)
    for variable in variables:
        assert written[variable] == env[variable], variable


def test_azd_gets_the_outputs_the_readme_and_workflows_use() -> None:
    outputs = BicepFile(MAIN).outputs
    assert {
        "AZURE_LOCATION",
        "AZURE_TENANT_ID",
        "AZURE_RESOURCE_GROUP",
        "AZURE_FUNCTION_NAME",
        "AZURE_FUNCTION_URL",
        "SERVICE_API_NAME",
        "CONTROL_PLANE_IDENTITY_PRINCIPAL_ID",
    } <= set(outputs)
    values = {name: main_evaluator(BASE_ENV).output(name) for name in outputs}
    assert values["AZURE_FUNCTION_URL"].startswith("https://") and values["AZURE_FUNCTION_URL"].endswith(
        ".azurewebsites.net"
    )
    assert values["AZURE_FUNCTION_NAME"] == values["SERVICE_API_NAME"]


def test_no_output_feeds_back_into_a_parameter() -> None:
    # azd writes outputs into the environment the next `azd provision` substitutes from.
    feeding = {var for entry in parameters_file().values() for var in env_references(entry["value"])}
    # Except AZURE_LOCATION: it is `location` itself, output as Microsoft's templates do.
    assert set(BicepFile(MAIN).outputs) & feeding == {"AZURE_LOCATION"}
    assert BicepFile(MAIN).outputs["AZURE_LOCATION"].value.text.decode() == "location"


def test_azure_yaml_names_the_service_the_app_is_tagged_with() -> None:
    config = yaml.safe_load((ROOT / "azure.yaml").read_text())
    # Azure/azure-dev schemas/v1.0/azure.yaml.json: name pattern, host required.
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", config["name"])
    [(service, spec)] = config["services"].items()
    assert spec == {"project": ".", "language": "python", "host": "function", "remoteBuild": True}
    app_call = properties(BicepFile(MAIN).modules["app"].value)
    assert string_literal(properties(app_call["params"])["serviceName"]) == service
    function_app = BicepFile(INFRA / "app" / "function-app.bicep")
    site = properties(function_app.resources["site"].value)
    assert "'azd-service-name': serviceName" in site["tags"].text.decode()


def test_the_pool_roles_reach_every_pool_subscription_once() -> None:
    env = {
        **BASE_ENV,
        "CP_SUBSCRIPTION_ID": "11111111-1111-1111-1111-111111111111",
        "CP_SUBSCRIPTION_POOL": '[{"subscription_id": "22222222-2222-2222-2222-222222222222", "regions": ["eastus2"]},'
        ' {"subscription_id": "11111111-1111-1111-1111-111111111111", "regions": ["westus3"]}]',
    }
    main = main_evaluator(env)
    assert main.var("poolSubscriptionIds") == [
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
    ]
    module = main.file.modules["poolRoles"]
    assert module.value.type == "for_statement"
    body = properties(module.value.named_children[-1])
    assert body["scope"].text.decode() == "subscription(poolSubscriptionId)"
    assert main.module_params("poolRoles", "22222222-2222-2222-2222-222222222222") == {
        "principalId": MODULE_OUTPUTS["identity.outputs.principalId"]
    }
    assert BicepFile(INFRA / "app" / "pool-subscription-roles.bicep").target_scope == "subscription"
    names = {main.eval(body["name"], {"poolSubscriptionId": s}) for s in main.var("poolSubscriptionIds")}
    assert len(names) == 2 and all(len(n) <= 64 for n in names)
