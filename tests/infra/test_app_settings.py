"""The app settings `azd up` gives the control plane, fed to the product's own settings loader.

tests/infra/deployment.py provisions offline: azd's parameter substitution from an azd environment,
main.bicep, then app-settings.bicep. If a setting is renamed in the code and not in infra/, or infra/
writes one the code refuses, a test here fails instead of the first request on Azure."""

from __future__ import annotations

import base64
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from controlplane.arm.flex_consumption import FLEX_REFUSED_SETTINGS
from controlplane.registry import TwinRegistry
from controlplane.settings import Settings, load_settings
from controlplane.settings.reference import PLATFORM_MEANINGS
from tests.infra.bicep import BicepFile, properties
from tests.infra.deployment import (
    BASE_ENV,
    IDENTITY_CLIENT_ID,
    INFRA,
    MODULE_OUTPUTS,
    ROOT,
    app_settings,
    main_evaluator,
)

SUB = "11111111-1111-1111-1111-111111111111"
POOL_SUB = "22222222-2222-2222-2222-222222222222"
KEY_HASH = "6e3019a6ebf73a574473c6799213257adcb3c300655055ba686cedd3a64c41ac"
FULL_ENV = {
    **BASE_ENV,
    "CP_SUBSCRIPTION_ID": SUB,
    "CP_SUBSCRIPTION_POOL": json.dumps(
        [{"subscription_id": POOL_SUB, "regions": ["eastus2", "westus3"], "max_twins_per_region": 200}]
    ),
    "CP_AUTH": json.dumps(
        {
            "operator_key_hashes": [KEY_HASH],
            "issuers": [
                {
                    "issuer": "https://login.microsoftonline.com/tenant/v2.0",
                    "audience": "api://twinstack",
                    "jwks_uri": "https://login.microsoftonline.com/tenant/discovery/v2.0/keys",
                    "owner_prefix": "entra:",
                }
            ],
        }
    ),
    "CP_ENV_KEYS": json.dumps(
        {"OPENAI_KEY": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/openai/)"}
    ),
    "CP_PACKAGE_URL_TEMPLATE": "https://packages.example.com/brainstems/{deploy_ref}.zip",
    "CP_DEFAULT_DEPLOY_REF": "v1.2.3",
    "CP_DEFAULT_REGION": "westus3",
    "CP_ALLOWED_REGIONS": "eastus2,westus3",
    "CP_DEFAULT_RUNTIME_TARGET": "azure-flex-py312",
    "CP_ORG_TAG": "example-org",
    "CP_BRAINSTEM_URL_TEMPLATE": "https://{host}",
    "CP_OWNER_QUOTA": "25",
    "CP_OPERATORS_QUOTA_EXEMPT": "false",
    "CP_FLEX_INSTANCE_MEMORY_MB": "4096",
    "CP_FLEX_MAXIMUM_INSTANCE_COUNT": "200",
    "CP_ARM_WRITES_PER_SECOND": "6",
    "CP_ARM_WRITE_BURST": "100",
    "CP_CALLBACK_ALLOWED_HOSTS": "hooks.example.com,*.example.org",
    "CP_CALLBACK_SIGNING_KEY_SECRET_URI": "https://kv-twinstack.vault.azure.net/secrets/callback-signing-key",
    "CP_EXTRA_APP_SETTINGS": json.dumps({"CP_READINESS_TIMEOUT_SECONDS": "900", "CP_ACTIVITY_MAX_ATTEMPTS": "7"}),
}
SCENARIOS = {
    "defaults": BASE_ENV,
    "everything-set": FULL_ENV,
    "durable-task-scheduler": {**BASE_ENV, "CP_USE_DURABLE_TASK_SCHEDULER": "true"},
    "event-grid": {**BASE_ENV, "CP_USE_EVENT_GRID": "true"},
}

# Settings the control plane reads that `azd up` deliberately does not write, and why.
NOT_WRITTEN_ON_AZURE = {
    "CP_STORAGE_CONNECTION": "a connection string: on Azure the registry is reached by identity (CP_TABLE_ENDPOINT)",
    "AzureWebJobsStorage": "a connection string: the host's storage is AzureWebJobsStorage__* by identity",
    "CP_ARM_CA_BUNDLE": "a private CA for a stand-in or proxy; Azure's ARM has a public certificate",
    "CP_FLEX_SANDBOX_BLOB_CONNECTION": "the offline sandbox only (refused unless loopback)",
    "CP_SANDBOX_BLOB_CONNECTION": "the offline sandbox only (refused unless loopback); CP_FLEX_SANDBOX_BLOB_CONNECTION's new name",
    "CP_SCM_URL_TEMPLATE": "Azure's own scm host (https://{scm_host}) is the code's default; set only for a stand-in",
    "CP_EVENTGRID_CREDENTIAL": "'default' (DefaultAzureCredential) is the code's default; 'sandbox' is loopback only",
    "WEBSITE_HOSTNAME": "set by App Service itself on every app (the default host name)",
    "CP_CALLBACK_SANDBOX_LOOPBACK": "the offline sandbox only (refused unless the allow-list is loopback)",
    "CP_EVENTS_CA_BUNDLE": "a private CA for a stand-in or proxy; Event Grid and receivers have public certificates",
    "CP_PUBLIC_BASE_URL": "only behind a custom domain or gateway; unset, the platform's WEBSITE_HOSTNAME is used",
    "CP_LOGS_QUERY_ENDPOINT": "Azure's public Log Analytics API (https://api.loganalytics.io) is the code's default",
    "CP_LOGS_QUERY_CA_BUNDLE": "a private CA for the Log Analytics stand-in; Azure's API has a public certificate",
}
# Settings infra/ writes or explains ahead of the code that reads them (none now).
AHEAD_OF_THE_CODE: set[str] = set()
# Tuning with sound code defaults: set through extraAppSettings (CP_EXTRA_APP_SETTINGS) when needed.
TUNING = {
    "CP_ARM_POLLING_INTERVAL_SECONDS",
    "CP_BRAINSTEM_READINESS_PATH",
    "CP_PUBLISH_TIMEOUT_SECONDS",
    "CP_READINESS_TIMEOUT_SECONDS",
    "CP_READINESS_PROBE_INTERVAL_SECONDS",
    "CP_TEARDOWN_POLL_INTERVAL_SECONDS",
    "CP_ARM_OPERATION_POLL_SECONDS",
    "CP_ONE_DEPLOY_POLL_SECONDS",  # when the scm site sends no Retry-After
    "CP_HISTORY_RETENTION_DAYS",
    "CP_TEARDOWN_TIMEOUT_SECONDS",
    "CP_ACTIVITY_FIRST_RETRY_SECONDS",
    "CP_ACTIVITY_MAX_ATTEMPTS",
    "CP_RETRY_AFTER_SECONDS",
    "CP_EVENT_SOURCE",  # the CloudEvents source; its default names the control plane
    "CP_ROLLOUT_POLL_SECONDS",
    # The fleet-wide ARM budget (README, One ARM budget for the whole fleet): defaults sized to ARM's buckets.
    "CP_ARM_WRITE_BUDGET",
    "CP_ARM_DELETES_PER_SECOND",
    "CP_ARM_DELETE_BURST",
    "CP_ARM_BUDGET_HORIZON_SECONDS",
    "CP_ARM_BUDGET_BULK_HORIZON_SECONDS",
    "CP_ARM_BUDGET_BLOCK",
    "CP_ARM_BUDGET_GRACE_SECONDS",
    # The reconcile and the heartbeat (README, Reconcile, adopt, heartbeat): defaults sized for 100,000 twins.
    "CP_RECONCILE_GRACE_SECONDS",
    "CP_RECONCILE_LOST_JOB_SECONDS",
    "CP_HEARTBEAT_STALE_AFTER_SECONDS",
    "CP_HEARTBEAT_PAGE_SIZE",
    "CP_HEARTBEAT_CONCURRENCY",
    "CP_HEARTBEAT_TIMEOUT_SECONDS",
    # Day-two safety (docs/day-two-safety.md): the code's defaults are the safe ones (a 24 h grace, 20
    # deletes an hour, 50 drift probes a run); a platform team tunes them through extraAppSettings.
    "CP_DELETE_GRACE_SECONDS",
    "CP_DELETE_RATE_LIMIT",
    "CP_DRIFT_SETTINGS_PER_RUN",
}


def code_setting_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        names.update(str(choice) for choice in getattr(alias, "choices", None) or [name])
    return names


def every_scenario() -> dict[str, dict[str, object]]:
    return {name: app_settings(env) for name, env in SCENARIOS.items()}


def resolved(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as the app sees them: App Service resolves Key Vault references before start-up
    (Learn: app-service-key-vault-references); here every reference resolves to a well-formed key."""
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    return {k: secret if str(v).startswith("@Microsoft.KeyVault(") else v for k, v in settings.items()}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_products_settings_loader_accepts_them(scenario: str) -> None:
    environ = resolved(app_settings(SCENARIOS[scenario]))
    assert all(isinstance(value, str) for value in environ.values()), "app settings are strings"
    settings = load_settings(environ)  # raises SettingsError naming the setting to fix
    assert settings.storage_connection is None
    assert settings.table_endpoint == MODULE_OUTPUTS["storage.outputs.tableEndpoint"]
    assert settings.arm_credential == "default" and settings.arm_endpoint == "https://management.azure.com"


def test_what_was_asked_for_is_what_the_control_plane_reads() -> None:
    written = app_settings(FULL_ENV)
    assert written["CP_CALLBACK_SIGNING_KEY"] == (
        "@Microsoft.KeyVault(SecretUri=https://kv-twinstack.vault.azure.net/secrets/callback-signing-key)"
    )  # the key itself is never in the deployment
    settings = load_settings(resolved(written))
    assert settings.subscription_id == SUB
    assert [(p.subscription_id, p.regions, p.max_twins_per_region) for p in settings.subscription_pool] == [
        (POOL_SUB, ("eastus2", "westus3"), 200)
    ]
    assert settings.auth is not None and settings.auth.operator_key_hashes == (KEY_HASH,)
    assert [i.issuer for i in settings.auth.issuers] == ["https://login.microsoftonline.com/tenant/v2.0"]
    assert dict(settings.env_keys) == json.loads(FULL_ENV["CP_ENV_KEYS"])
    assert settings.package_url("main") == "https://packages.example.com/brainstems/main.zip"
    assert (settings.default_deploy_ref, settings.default_region, settings.allowed_regions) == (
        "v1.2.3", "westus3", ("eastus2", "westus3"))  # fmt: skip
    assert (settings.default_runtime_target, settings.org_tag, settings.owner_quota) == (
        "azure-flex-py312",
        "example-org",
        25,
    )
    assert settings.operators_quota_exempt is False
    assert (settings.flex_instance_memory_mb, settings.flex_maximum_instance_count) == (4096, 200)
    assert (settings.arm_writes_per_second, settings.arm_write_burst) == (6, 100)
    assert (settings.readiness_timeout_seconds, settings.activity_max_attempts) == (900, 7)


def test_unset_settings_leave_the_codes_defaults() -> None:
    written = app_settings(BASE_ENV)
    assert not {"CP_SUBSCRIPTION_POOL", "CP_AUTH", "CP_ENV_KEYS", "CP_OWNER_QUOTA", "CP_DEFAULT_REGION"} & set(written)
    settings = load_settings(written)
    assert settings.subscription_id == "00000000-0000-0000-0000-00000000000a"  # the subscription deployed to
    assert settings.auth is None  # every call 401 until CP_AUTH is set (README says how)
    assert settings.owner_quota == Settings.model_fields["owner_quota"].default


def test_every_setting_the_code_reads_is_written_or_deliberately_left_out() -> None:
    written = set().union(*(set(s) for s in every_scenario().values()))
    code = code_setting_names()
    unclassified = code - written - set(NOT_WRITTEN_ON_AZURE) - TUNING
    assert not unclassified, f"settings the code reads that infra/ neither writes nor explains: {sorted(unclassified)}"
    stale = (set(NOT_WRITTEN_ON_AZURE) | TUNING) - code - AHEAD_OF_THE_CODE
    assert not stale, f"no longer read by the code: {sorted(stale)}"


def test_the_platform_settings_the_reference_explains_are_written_by_infra() -> None:
    written = set().union(*(set(s) for s in every_scenario().values()))
    assert set(PLATFORM_MEANINGS) - written == set(), "docs/settings.md explains settings infra/ no longer writes"


def test_every_cp_setting_infra_writes_is_read_by_the_code() -> None:
    written = set().union(*(set(s) for s in every_scenario().values()))
    assert {n for n in written if n.startswith("CP_")} - code_setting_names() - AHEAD_OF_THE_CODE == set()


def test_no_connection_string_no_key_no_setting_flex_refuses() -> None:
    # The product's list of settings Flex refuses, and the two Learn's flex-consumption-plan adds (time zones).
    refused = {name.upper() for name in FLEX_REFUSED_SETTINGS} | {"WEBSITE_TIME_ZONE", "TZ"}
    for scenario, written in every_scenario().items():
        assert "AzureWebJobsStorage" not in written and "CP_STORAGE_CONNECTION" not in written, scenario
        assert not {name.upper() for name in written} & refused, scenario
        for name, value in written.items():
            assert not re.search(r"AccountKey=|SharedAccessSignature=|[?&]sig=", str(value)), (scenario, name)


def test_everything_is_reached_with_the_one_user_assigned_identity() -> None:
    written = app_settings(BASE_ENV)
    assert written["AZURE_CLIENT_ID"] == IDENTITY_CLIENT_ID  # azure-identity: DefaultAzureCredential's managed identity
    assert written["AzureWebJobsStorage__credential"] == "managedidentity"
    assert written["AzureWebJobsStorage__clientId"] == IDENTITY_CLIENT_ID
    for service in ("blob", "queue", "table"):
        assert (
            written[f"AzureWebJobsStorage__{service}ServiceUri"] == MODULE_OUTPUTS[f"storage.outputs.{service}Endpoint"]
        )
    assert written["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == f"ClientId={IDENTITY_CLIENT_ID};Authorization=AAD"
    assert written["CP_TABLE_ENDPOINT"] == MODULE_OUTPUTS["storage.outputs.tableEndpoint"]


def test_extra_settings_never_replace_the_wiring() -> None:
    env = {**BASE_ENV, "CP_EXTRA_APP_SETTINGS": json.dumps(
        {"AZURE_CLIENT_ID": "someone-else", "CP_TABLE_ENDPOINT": "https://elsewhere/", "CP_TEARDOWN_TIMEOUT_SECONDS": "60"})}  # fmt: skip
    written = app_settings(env)
    assert written["AZURE_CLIENT_ID"] == IDENTITY_CLIENT_ID
    assert written["CP_TABLE_ENDPOINT"] == MODULE_OUTPUTS["storage.outputs.tableEndpoint"]
    assert written["CP_TEARDOWN_TIMEOUT_SECONDS"] == "60"


def _interval(text: str) -> timedelta:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def test_durable_on_azure_storage_polls_as_microsoft_recommends_for_flex() -> None:
    written = app_settings(BASE_ENV)
    interval = written["AzureFunctionsJobHost__extensions__durableTask__storageProvider__maxQueuePollingInterval"]
    assert timedelta(0) < _interval(interval) <= timedelta(seconds=10)
    assert "DURABLE_TASK_SCHEDULER_CONNECTION_STRING" not in written
    function_app = BicepFile(INFRA / "app" / "function-app.bicep")
    scale = properties(properties(properties(function_app.resources["site"].value)["properties"])["functionAppConfig"])
    always_ready = properties(scale["scaleAndConcurrency"])["alwaysReady"].named_children
    assert [properties(entry)["name"].text.decode() for entry in always_ready] == ["'durable'"]
    assert main_evaluator(BASE_ENV).param("durableAlwaysReadyInstances") == 1


def test_the_durable_task_scheduler_is_reached_by_identity_on_the_same_task_hub() -> None:
    env = SCENARIOS["durable-task-scheduler"]
    written = app_settings(env)
    prefix = "AzureFunctionsJobHost__extensions__durableTask__storageProvider__"
    assert written[f"{prefix}type"] == "azureManaged"
    assert written[f"{prefix}connectionStringName"] in written
    assert written[written[f"{prefix}connectionStringName"]] == (
        f"Endpoint={MODULE_OUTPUTS['scheduler.outputs.endpoint']};Authentication=ManagedIdentity;ClientID={IDENTITY_CLIENT_ID}"
    )
    assert f"{prefix}maxQueuePollingInterval" not in written
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["durableTask"]["hubName"] == "%CP_TASK_HUB%"
    assert main_evaluator(env).module_params("scheduler")["taskHubName"] == written["CP_TASK_HUB"]
    # The azureManaged provider (Microsoft.Azure.WebJobs.Extensions.DurableTask.AzureManaged) entered the
    # GA bundle at 4.30.0 (Azure/azure-functions-extension-bundles a9c76ff, "main: Add
    # DurableTask.AzureManaged Extension (#621)", bundleConfig.json 4.30.0; extensions.json carries it
    # since). Learn's quickstart and the Python samples name the Preview bundle because they predate it.
    # One host.json serves both backends only if no bundle without the provider can be chosen.
    bundle = host["extensionBundle"]
    assert bundle["id"] == "Microsoft.Azure.Functions.ExtensionBundle"
    assert bundle["version"] == "[4.30.0, 5.0.0)"


def test_telemetry_is_opentelemetry_end_to_end_as_learn_configures_it_for_python() -> None:
    # Learn, azure-functions/opentelemetry-howto (Python): telemetryMode OpenTelemetry in host.json,
    # PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true so the host does not send the worker's logs again;
    # in that mode host.json's logging.applicationInsights section does not apply, so it is not written.
    host = json.loads((ROOT / "host.json").read_text())
    assert host["telemetryMode"] == "OpenTelemetry"
    assert "applicationInsights" not in host["logging"]
    assert app_settings(BASE_ENV)["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"


def test_event_grid_endpoint_only_when_asked_for() -> None:
    assert "CP_EVENTGRID_ENDPOINT" not in app_settings(BASE_ENV)
    assert (
        app_settings(SCENARIOS["event-grid"])["CP_EVENTGRID_ENDPOINT"] == MODULE_OUTPUTS["eventGrid.outputs.endpoint"]
    )


def test_names_infra_creates_are_the_codes() -> None:
    main = main_evaluator(BASE_ENV)
    assert main.param("registryTable") == Settings.model_fields["registry_table"].default
    assert main.param("taskHubName") == Settings.model_fields["task_hub"].default
    assert main.module_params("storage")["tableNames"] == TwinRegistry.table_names("brainstems")


def test_the_app_runs_the_python_the_tests_run_on() -> None:
    version = main_evaluator(BASE_ENV).param("pythonVersion")
    assert version == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"scripts/find-python.sh {version}" in (ROOT / "Makefile").read_text()


def test_the_deployed_package_leaves_out_infra_and_tests() -> None:
    ignored = set(Path(ROOT / ".funcignore").read_text().split())
    assert {"infra", "azure.yaml", ".azure", "tests", "sandbox", ".venv", ".venv-iac"} <= ignored
