"""The one place that builds Azure Resource Manager clients from settings.

Clients are cached per subscription: they hold connection pools and a token cache, and building
one per call would cost a TLS handshake and a token fetch each time.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.resource.locks import ManagementLockClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.web import WebSiteManagementClient

from controlplane.arm.budgets import budget_clock, budget_sleep, charge_for, reset_budgets
from controlplane.arm.write_budget import SubscriptionWriteBudget
from controlplane.settings import Settings, get_settings
from controlplane.telemetry.arm_policy import ThrottleCounter

PUBLIC_CLOUD_SCOPE = "https://management.azure.com/.default"


class SandboxCredential:
    """A fixed token for the loopback ARM stand-in. Settings refuse it for any other endpoint."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("sandbox-token", int(time.time()) + 3600)


@dataclass(frozen=True)
class ArmClients:
    subscription_id: str
    resources: ResourceManagementClient
    storage: StorageManagementClient
    web: WebSiteManagementClient
    authorization: AuthorizationManagementClient
    locks: ManagementLockClient
    # The same identity and audience, for hosts that take an ARM token but are not ARM (an app's scm
    # site: One Deploy's /api/publish, as azd's FuncAppHostClient sends it).
    credential: TokenCredential
    token_scope: str

    def bearer_token(self) -> str:
        """A bearer token for ``token_scope``. A secret: never log or return it."""
        return self.credential.get_token(self.token_scope).token


def _credential(settings: Settings) -> TokenCredential:
    if settings.arm_credential == "sandbox":
        return SandboxCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def identity(settings: Settings) -> TokenCredential:
    """The control plane's identity (the one ARM sees), for the other Azure APIs it calls."""
    return _credential(settings)


def token_scope(settings: Settings) -> str:
    return PUBLIC_CLOUD_SCOPE if settings.arm_credential == "sandbox" else f"{settings.arm_endpoint}/.default"


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments every management client is built with."""
    options: dict[str, Any] = {
        "base_url": settings.arm_endpoint,
        "credential_scopes": [token_scope(settings)],
        "polling_interval": settings.arm_polling_interval_seconds,
    }
    if settings.arm_ca_bundle:
        options["connection_verify"] = settings.arm_ca_bundle
    return options


@functools.lru_cache(maxsize=256)
def _clients(subscription_id: str) -> ArmClients:
    settings = get_settings()
    credential = _credential(settings)
    options = client_options(settings)
    # One budget per subscription for all its clients (ARM counts them together): see write_budget.
    budget = SubscriptionWriteBudget(
        subscription_id, charge_for(subscription_id, settings), clock=budget_clock, sleep=budget_sleep
    )
    # Every attempt, retries included, spends from the budget; every 429 is counted (telemetry).
    options["per_retry_policies"] = [budget, ThrottleCounter(subscription_id)]
    return ArmClients(
        subscription_id=subscription_id,
        resources=ResourceManagementClient(credential, subscription_id, **options),
        storage=StorageManagementClient(credential, subscription_id, **options),
        web=WebSiteManagementClient(credential, subscription_id, **options),
        authorization=AuthorizationManagementClient(credential, subscription_id, **options),
        locks=ManagementLockClient(credential, subscription_id, **options),
        credential=credential,
        token_scope=token_scope(settings),
    )


def arm_clients(subscription_id: str | None = None) -> ArmClients:
    """Clients for ``subscription_id`` (default: CP_SUBSCRIPTION_ID)."""
    return _clients(subscription_id or get_settings().subscription_id)


def reset_clients() -> None:
    """Forget cached clients and budgets (tests that change settings)."""
    _clients.cache_clear()
    reset_budgets()
