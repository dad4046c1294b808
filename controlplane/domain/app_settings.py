"""Per-twin app settings a caller may set: Key Vault references only, so the control plane holds no secret.

A twin's own settings (an API key it calls out with, a signing key) reach its Function App as
Key Vault references, which App Service resolves with the app's identity at run time (Learn: "Use
Key Vault references as app settings in Azure App Service and Azure Functions", reference syntax
``@Microsoft.KeyVault(SecretUri=...)`` or ``@Microsoft.KeyVault(VaultName=...;SecretName=...)``).
The reference names where the secret lives, not the secret: it may sit on a row, in orchestration
history and in a log. A plain value is refused, because the control plane never stores secrets.
Names the platform owns (host storage, runtime, deployment) are refused so a twin cannot be broken
by a setting; ``null`` removes a setting the twin had.
"""

from __future__ import annotations

import re

from controlplane.domain.errors import InvalidInput

MAX_SETTINGS = 50
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_RESERVED_PREFIXES = ("AzureWebJobs", "FUNCTIONS_", "WEBSITE_", "APPSETTING_", "SCM_", "DEPLOYMENT_", "AZURE_FUNCTIONS")
_VAULT = r"[A-Za-z0-9-]{3,24}"
_SECRET_NAME = r"[A-Za-z0-9-]{1,127}"  # noqa: S105 - a pattern for a Key Vault secret's name, not a secret
_REFERENCE = re.compile(
    r"@Microsoft\.KeyVault\((?:"
    rf"SecretUri=https://{_VAULT}\.vault\.azure\.net/secrets/{_SECRET_NAME}(?:/[0-9a-f]{{32}})?/?"
    rf"|VaultName={_VAULT};SecretName={_SECRET_NAME}(?:;SecretVersion=[0-9a-f]{{32}})?"
    r")\)"
)


def validate_app_settings(value: object, field: str = "app_settings") -> dict[str, str | None]:
    """``{NAME: Key Vault reference | None}``; InvalidInput naming the field (and setting) to fix."""
    if not isinstance(value, dict) or not value or len(value) > MAX_SETTINGS:
        raise InvalidInput(field, f"{field} must be an object of 1 to {MAX_SETTINGS} settings")
    for name, reference in value.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name.startswith(_RESERVED_PREFIXES):
            raise InvalidInput(
                field, f"{field} names are letters, digits and _ (not starting with a platform prefix such as WEBSITE_)"
            )
        if reference is not None and not (isinstance(reference, str) and _REFERENCE.fullmatch(reference)):
            raise InvalidInput(
                f"{field}.{name}",
                f"{field}.{name} must be a Key Vault reference such as @Microsoft.KeyVault(SecretUri=https://"
                "<vault>.vault.azure.net/secrets/<name>) or null to remove it; the control plane stores no secret",
            )
    return dict(value)


def merged(current: dict[str, str] | None, changes: dict[str, str | None] | None) -> dict[str, str] | None:
    """The twin's settings after ``changes`` (None values remove); None when it has none left."""
    result = dict(current or {})
    for name, reference in (changes or {}).items():
        if reference is None:
            result.pop(name, None)
        else:
            result[name] = reference
    return result or None
