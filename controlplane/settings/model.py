"""The Settings model: every app setting, its alias (the setting name), default and validation.

Settings come from the Function App's application settings (``local.settings.json`` under Core
Tools). They are read once, on first use, so a misconfigured app fails on its first request with a
message naming the setting to fix — never echoing its value, which may be a connection string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, ConfigDict, Field, field_validator

from controlplane.auth.config import AuthConfig
from controlplane.domain.addresses import is_loopback_url
from controlplane.domain.callbacks import CallbackPolicy
from controlplane.domain.errors import SettingsError
from controlplane.domain.naming import TwinNames
from controlplane.domain.placement import PoolSubscription
from controlplane.settings import events
from controlplane.settings.budget import BudgetSettings
from controlplane.settings.event_fields import EventSettings
from controlplane.settings.pool import GUID, REGION, parse_pool
from controlplane.settings.reconcile import ReconcileSettings

_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,50}")  # leaves room for the derived table suffixes

DEFAULT_REGIONS = (
    "australiaeast,canadacentral,centralus,eastus,eastus2,francecentral,germanywestcentral,japaneast,"
    "northeurope,southeastasia,swedencentral,uksouth,westeurope,westus2,westus3"
)

PositiveSeconds = Annotated[float, Field(gt=0, le=86_400)]


def _env(name: str, default: Any = ...) -> Any:
    return Field(default=default, validation_alias=AliasChoices(name))


def _secret_env(name: str, default: Any) -> Any:
    """A setting whose value may hold a secret: never shown in a repr."""
    return Field(default=default, validation_alias=AliasChoices(name), repr=False)


class Settings(BudgetSettings, EventSettings, ReconcileSettings):
    """The control plane's settings. Field aliases are the app setting names."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_default=True)

    # Table Storage for the registry: a connection string (AzureWebJobsStorage by default) or, with
    # managed identity, the account's table endpoint (CP_TABLE_ENDPOINT).
    storage_connection: str | None = Field(
        default=None, validation_alias=AliasChoices("CP_STORAGE_CONNECTION", "AzureWebJobsStorage"), repr=False
    )
    table_endpoint: str | None = _env("CP_TABLE_ENDPOINT", None)
    registry_table: str = _env("CP_REGISTRY_TABLE", "brainstems")
    task_hub: str = _env("CP_TASK_HUB", "TwinStackControlPlane")

    subscription_id: str = _env("CP_SUBSCRIPTION_ID")
    # The subscriptions twins are placed in (JSON list of {subscription_id, regions,
    # max_twins_per_region, max_resource_groups}); unset: CP_SUBSCRIPTION_ID with every allowed region.
    subscription_pool_setting: tuple[PoolSubscription, ...] | None = Field(
        default=None, validation_alias=AliasChoices("CP_SUBSCRIPTION_POOL")
    )
    arm_endpoint: str = _env("CP_ARM_ENDPOINT", "https://management.azure.com")
    # "default": DefaultAzureCredential (managed identity on Azure, az login locally).
    # "sandbox": a fixed token, accepted only for a loopback ARM endpoint (the offline stand-in).
    arm_credential: Literal["default", "sandbox"] = _env("CP_ARM_CREDENTIAL", "default")
    arm_ca_bundle: str | None = _env("CP_ARM_CA_BUNDLE", None)
    # Where a rollout's error-rate gate sends its Log Analytics query (azure-monitor-query's
    # LogsQueryClient), with the same identity as ARM; a CA bundle only for a loopback stand-in.
    logs_query_endpoint: str = _env("CP_LOGS_QUERY_ENDPOINT", "https://api.loganalytics.io")
    logs_query_ca_bundle: str | None = _env("CP_LOGS_QUERY_CA_BUNDLE", None)
    # How long the SDK waits between polls of a long-running operation when ARM sends no Retry-After.
    arm_polling_interval_seconds: float = Field(
        default=30, ge=0, le=300, validation_alias=AliasChoices("CP_ARM_POLLING_INTERVAL_SECONDS")
    )

    default_region: str = _env("CP_DEFAULT_REGION", "eastus2")
    allowed_regions: tuple[str, ...] = _env("CP_ALLOWED_REGIONS", DEFAULT_REGIONS)
    default_runtime_target: str = _env("CP_DEFAULT_RUNTIME_TARGET", "azure-consumption-py311")
    org_tag: str = _env("CP_ORG_TAG", "wildhaven-ai-homes")

    default_deploy_ref: str = _env("CP_DEFAULT_DEPLOY_REF", "main")
    package_url_template: str = _env(
        "CP_PACKAGE_URL_TEMPLATE", "https://sttwinstackpackages.blob.core.windows.net/brainstems/{deploy_ref}.zip"
    )
    # The operator's env keys, applied to every brainstem as app settings. Values may be Key Vault
    # references (@Microsoft.KeyVault(...)); they are read by the activity that writes them, never
    # passed through orchestration history, rows or logs.
    env_keys: Mapping[str, str] = _secret_env("CP_ENV_KEYS", "{}")  # the JSON text, parsed by _env_keys

    # A brainstem's URL, probed for readiness and given to callers; {host} and {app_name} are filled
    # in. On Azure the real https://{host}; the offline sandbox points it at its loopback stand-in.
    brainstem_url_template: str = _env("CP_BRAINSTEM_URL_TEMPLATE", "https://{host}")
    # The brainstem route readiness asks: a twin is active only once this answers 2xx and, where the
    # answer reports a deploy_ref, reports the one it was given. The root URL proves nothing (Azure
    # serves a landing page there with no code loaded), so it is never the readiness route.
    readiness_path: str = _env("CP_BRAINSTEM_READINESS_PATH", "/api/health")
    # A Flex app's scm (Kudu) site, where One Deploy takes packages; {scm_host} (the site's
    # repository host name, as ARM reports it) and {app_name} are filled in.
    scm_url_template: str = _env("CP_SCM_URL_TEMPLATE", "https://{scm_host}")
    # How long publishing may wait for a fresh role assignment to take effect before it gives up
    # (Learn, "Troubleshoot Azure RBAC": role assignment changes can take up to 10 minutes).
    publish_timeout_seconds: PositiveSeconds = _env("CP_PUBLISH_TIMEOUT_SECONDS", 900)

    # Where callers reach this API, for the absolute Location of a 202: CP_PUBLIC_BASE_URL (a custom
    # domain, a gateway), else the default host name App Service sets for the app (WEBSITE_HOSTNAME,
    # Learn: "Environment variables and app settings in Azure App Service"). Never the request's Host
    # header, which the caller controls.
    public_base_url: str | None = _env("CP_PUBLIC_BASE_URL", None)
    # The Retry-After of a 202 (accepted job, job still running): how often clients look again.
    retry_after_seconds: int = Field(default=10, ge=1, le=300, validation_alias=AliasChoices("CP_RETRY_AFTER_SECONDS"))
    website_hostname: str | None = _env("WEBSITE_HOSTNAME", None)
    readiness_timeout_seconds: PositiveSeconds = _env("CP_READINESS_TIMEOUT_SECONDS", 600)
    readiness_probe_interval_seconds: PositiveSeconds = _env("CP_READINESS_PROBE_INTERVAL_SECONDS", 15)
    # How often a rollout looks at its running updates (each look: one query of the rollout's table
    # and one Durable status read per running twin).
    rollout_poll_seconds: PositiveSeconds = _env("CP_ROLLOUT_POLL_SECONDS", 5)
    teardown_poll_interval_seconds: PositiveSeconds = _env("CP_TEARDOWN_POLL_INTERVAL_SECONDS", 15)
    # How often an orchestration polls a long-running ARM create it began (durable timers: no activity
    # slot is held while ARM works).
    operation_poll_seconds: PositiveSeconds = _env("CP_ARM_OPERATION_POLL_SECONDS", 5)
    deployment_poll_seconds: PositiveSeconds = _env("CP_ONE_DEPLOY_POLL_SECONDS", 5)
    # Ended Durable instances older than this are purged daily (controlplane/workflows/history_retention.py).
    history_retention_days: Annotated[float, Field(gt=0, le=365)] = _env("CP_HISTORY_RETENTION_DAYS", 30)
    # Soft delete (controlplane.service.soft_delete): a DELETE leaves the twin running this long,
    # pending delete, before its teardown begins; POST .../restore meanwhile cancels it. 0: at once.
    delete_grace_seconds: int = Field(
        default=86_400, ge=0, le=30 * 86_400, validation_alias=AliasChoices("CP_DELETE_GRACE_SECONDS")
    )
    # The bulk guard: more deletes than this by one principal within an hour are refused (429)
    # unless an operator confirms with ?confirm=bulk.
    delete_rate_limit: int = Field(default=20, ge=1, le=100_000, validation_alias=AliasChoices("CP_DELETE_RATE_LIMIT"))
    teardown_timeout_seconds: PositiveSeconds = _env("CP_TEARDOWN_TIMEOUT_SECONDS", 3600)
    activity_first_retry_seconds: PositiveSeconds = _env("CP_ACTIVITY_FIRST_RETRY_SECONDS", 5)
    activity_max_attempts: int = Field(
        default=5, ge=1, le=20, validation_alias=AliasChoices("CP_ACTIVITY_MAX_ATTEMPTS")
    )

    # Who may call (controlplane.auth.AuthConfig as JSON: OIDC issuers, operator key hashes, App
    # Service auth). Unset: nobody can authenticate, every API call is 401.
    auth: AuthConfig | None = Field(default=None, validation_alias=AliasChoices("CP_AUTH"), repr=False)
    # Live (not deleted) brainstems one owner may hold; 0 = no limit. Operators are exempt unless
    # CP_OPERATORS_QUOTA_EXEMPT=false.
    owner_quota: int = Field(default=10, ge=0, le=1000, validation_alias=AliasChoices("CP_OWNER_QUOTA"))
    operators_quota_exempt: bool = Field(default=True, validation_alias=AliasChoices("CP_OPERATORS_QUOTA_EXEMPT"))

    # Flex Consumption targets (azure-flex-*): each app's scale limits (functionAppConfig.scaleAndConcurrency).
    flex_instance_memory_mb: int = Field(default=2048, validation_alias=AliasChoices("CP_FLEX_INSTANCE_MEMORY_MB"))
    # Learn (event-driven-scaling, "Limit scale-out", Flex): 1 to 1000 (40 was the preview's floor).
    flex_maximum_instance_count: int = Field(
        default=100, ge=1, le=1000, validation_alias=AliasChoices("CP_FLEX_MAXIMUM_INSTANCE_COUNT")
    )
    # Sandbox only: a blob connection string (Azurite) that receives Linux Consumption code packages
    # instead of each twin's own account (whose key signs the package's SAS on Azure). Loopback only.
    sandbox_blob_connection: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CP_SANDBOX_BLOB_CONNECTION", "CP_FLEX_SANDBOX_BLOB_CONNECTION"),
        repr=False,
    )

    @field_validator("flex_instance_memory_mb")
    @classmethod
    def _flex_memory(cls, value: int) -> int:
        if value not in (512, 2048, 4096):  # the instance sizes Flex Consumption offers
            raise ValueError("must be 512, 2048 or 4096 (MB)")
        return value

    @field_validator("sandbox_blob_connection")
    @classmethod
    def _sandbox_blob(cls, value: str | None) -> str | None:
        parts = dict(part.split("=", 1) for part in (value or "").split(";") if "=" in part)
        endpoint = parts.get("BlobEndpoint", "")
        loopback = parts.get("UseDevelopmentStorage", "").lower() == "true" or (
            urlsplit(endpoint).scheme in ("http", "https") and is_loopback_url(endpoint)
        )
        if value and not loopback:
            raise ValueError(
                "is only for a loopback blob service (Azurite): its BlobEndpoint must be http://127.0.0.1 or "
                "localhost; leave it unset on Azure"
            )
        return value or None

    @field_validator("auth", mode="before")
    @classmethod
    def _auth(cls, value: object) -> object:
        if value is None or isinstance(value, AuthConfig):
            return value
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a JSON object (see README, Authentication)")
        return AuthConfig.from_json(value)  # ValueError names the field to fix

    @field_validator("subscription_pool_setting", mode="before")
    @classmethod
    def _pool(cls, value: object) -> object:
        return parse_pool(value)

    @field_validator("registry_table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not _TABLE_NAME.fullmatch(value):
            raise ValueError("must be 3-51 letters or digits, starting with a letter")
        return value

    @field_validator("subscription_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not GUID.fullmatch(value):
            raise ValueError("must be a subscription GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
        return value.lower()

    @field_validator("arm_endpoint")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL (azure-core sends bearer tokens only over TLS)")
        return value.rstrip("/")

    @field_validator("allowed_regions", mode="before")
    @classmethod
    def _regions(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise ValueError("must be a comma-separated list of Azure region names such as eastus2,westeurope")
        regions = tuple(sorted({str(r).strip().lower() for r in items if str(r).strip()}))
        bad = [r for r in regions if not REGION.fullmatch(r)]
        if bad or not regions:
            raise ValueError("must be a comma-separated list of Azure region names such as eastus2,westeurope")
        return regions

    @field_validator("env_keys", mode="before")
    @classmethod
    def _env_keys(cls, value: object) -> Mapping[str, str]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("must be a JSON object of app setting names to string values") from None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ValueError("must be a JSON object of app setting names to string values")
        return dict(value)

    @field_validator("package_url_template")
    @classmethod
    def _package_template(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        # http only for a loopback package server (the sandbox's); anything else travels over TLS.
        if "{deploy_ref}" not in value or not (scheme == "https" or (scheme == "http" and is_loopback_url(value))):
            raise ValueError("must be an https:// URL containing {deploy_ref} (http:// only for a loopback host)")
        return value

    @field_validator("readiness_path")
    @classmethod
    def _readiness_path(cls, value: str) -> str:
        if not value.startswith("/") or value == "/" or any(c in value for c in "?#{} "):
            raise ValueError("must be a route path of the brainstem such as /api/health (not the root)")
        return value

    @field_validator("scm_url_template")
    @classmethod
    def _scm_template(cls, value: str) -> str:
        scheme = urlsplit(value.replace("{scm_host}", "scm.example").replace("{app_name}", "app")).scheme
        # The scm site receives an ARM bearer token: TLS, except for the sandbox's loopback stand-in.
        loopback = scheme == "http" and is_loopback_url(value.replace("{app_name}", "app"))
        if ("{scm_host}" not in value and "{app_name}" not in value) or not (scheme == "https" or loopback):
            raise ValueError("must be an https:// URL containing {scm_host} or {app_name} (http:// only for loopback)")
        return value.rstrip("/")

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback_url(value))
        if not secure or not parts.hostname or parts.query or parts.fragment or parts.path not in ("", "/"):
            raise ValueError("must be an https:// origin such as https://cp.example.com (http:// only for loopback)")
        return value.rstrip("/")

    @field_validator("website_hostname")
    @classmethod
    def _website_hostname(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?", value):
            raise ValueError("must be a host name (App Service sets it)")
        return value or None

    @property
    def public_origin(self) -> str | None:
        """The API's origin for absolute links, or None (links stay relative) when nothing says it."""
        if self.public_base_url:
            return self.public_base_url
        if self.website_hostname:
            local = self.website_hostname.split(":")[0] in ("localhost", "127.0.0.1")
            return f"{'http' if local else 'https'}://{self.website_hostname}"
        return None

    @field_validator("brainstem_url_template")
    @classmethod
    def _brainstem_template(cls, value: str) -> str:
        if "{host}" not in value and "{app_name}" not in value:
            raise ValueError("must contain {host} or {app_name}")
        return value

    def model_post_init(self, _context: object) -> None:
        if not self.storage_connection and not self.table_endpoint:
            raise SettingsError(
                "set AzureWebJobsStorage (or CP_STORAGE_CONNECTION) to a storage connection string, "
                "or CP_TABLE_ENDPOINT to the registry account's table endpoint for managed identity",
                setting="AzureWebJobsStorage",
            )
        if self.default_region not in self.allowed_regions:
            raise SettingsError("CP_DEFAULT_REGION must be one of CP_ALLOWED_REGIONS", setting="CP_DEFAULT_REGION")
        if self.arm_credential == "sandbox" and not is_loopback_url(self.arm_endpoint):
            raise SettingsError(
                "CP_ARM_CREDENTIAL=sandbox is only for a loopback ARM stand-in; use 'default' for Azure",
                setting="CP_ARM_CREDENTIAL",
            )

        for setting, problem in (
            ("CP_CALLBACK_SANDBOX_LOOPBACK", events.check_sandbox_loopback(self.callback_sandbox_loopback, self.callback_allowed_hosts)),
            ("CP_EVENTGRID_CREDENTIAL", events.check_eventgrid_credential(self.eventgrid_credential, self.eventgrid_endpoint)),
        ):  # fmt: skip
            if problem:
                raise SettingsError(problem, setting=setting)
        if self.callback_allowed_hosts and not self.callback_signing_keys:
            raise SettingsError(
                "CP_CALLBACK_SIGNING_KEY is required when CP_CALLBACK_ALLOWED_HOSTS is set: every callback is signed",
                setting="CP_CALLBACK_SIGNING_KEY",
            )

    @property
    def subscription_pool(self) -> tuple[PoolSubscription, ...]:
        """The placement pool: CP_SUBSCRIPTION_POOL, or CP_SUBSCRIPTION_ID in every allowed region."""
        return self.subscription_pool_setting or (PoolSubscription(self.subscription_id, self.allowed_regions),)

    def brainstem_url(self, names: TwinNames) -> str:
        return self.brainstem_url_template.format(host=names.default_host_name, app_name=names.app_name)

    def readiness_url(self, names: TwinNames) -> str:
        return self.brainstem_url(names).rstrip("/") + self.readiness_path

    def scm_url(self, *, scm_host: str, app_name: str) -> str:
        return self.scm_url_template.format(scm_host=scm_host, app_name=app_name)

    def package_url(self, deploy_ref: str) -> str:
        return self.package_url_template.format(deploy_ref=deploy_ref)

    @property
    def callback_policy(self) -> CallbackPolicy:
        return CallbackPolicy(self.callback_allowed_hosts, sandbox_loopback=self.callback_sandbox_loopback)
