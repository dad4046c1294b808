"""The caller as App Service Authentication ("Easy Auth") saw it: the X-MS-CLIENT-PRINCIPAL header.

When App Service Authentication is on, the platform validates the caller's credential itself,
strips any client-sent X-MS-* headers, and passes the result to the app as base64 JSON. That header
is only trustworthy under those conditions, which is why ``AuthConfig.platform_auth`` must say so.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import Any

from controlplane.auth.config import AuthConfig
from controlplane.auth.errors import Unauthorized
from controlplane.auth.principal import Principal
from controlplane.domain.errors import InvalidInput
from controlplane.domain.twin import validate_owner

log = logging.getLogger(__name__)

HEADER = "x-ms-client-principal"
MAX_HEADER_LENGTH = 64 * 1024
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
# Entra ID puts app roles under "roles"; the role_typ the platform declares is honoured as well.
ROLE_CLAIMS = ("roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")
_SAFE_AUTH_TYPE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def principal_from_platform(value: str, config: AuthConfig) -> Principal:
    document = _decode(value)
    auth_type = document.get("auth_typ")
    safe_type = auth_type if isinstance(auth_type, str) and _SAFE_AUTH_TYPE.fullmatch(auth_type) else "?"
    hint = f"platform auth_typ={safe_type}"
    claims = _claims(document)
    role_types = set(ROLE_CLAIMS)
    if isinstance(document.get("role_typ"), str):
        role_types.add(document["role_typ"])

    operator_role = config.platform_operator_role
    if operator_role is not None and any(typ in role_types and val == operator_role for typ, val in claims):
        return Principal(kind="operator", owner=None, via="platform", subject_hint=hint)
    object_id = next((val for typ, val in claims if typ in OBJECT_ID_CLAIMS and val), None)
    if object_id is None:
        raise _reject("platform principal has no object id", hint, error="invalid_token")
    try:
        owner = validate_owner(config.platform_owner_prefix + object_id)
    except InvalidInput:
        raise _reject("platform object id is not a valid owner id", hint, error="invalid_token") from None
    return Principal(kind="owner", owner=owner, via="platform", subject_hint=hint)


def _decode(value: str) -> dict[str, Any]:
    text = value.strip()
    if not text or len(text) > MAX_HEADER_LENGTH:
        raise _reject("malformed platform principal", "platform")
    try:
        document = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _reject("malformed platform principal", "platform") from None
    if not isinstance(document, dict):
        raise _reject("malformed platform principal", "platform")
    return document


def _claims(document: dict[str, Any]) -> list[tuple[str, str]]:
    claims = document.get("claims")
    if not isinstance(claims, list):
        raise _reject("malformed platform principal", "platform")
    return [
        (claim["typ"], claim["val"])
        for claim in claims
        if isinstance(claim, dict) and isinstance(claim.get("typ"), str) and isinstance(claim.get("val"), str)
    ]


def _reject(reason: str, hint: str, *, error: str = "invalid_request") -> Unauthorized:
    log.info("platform principal rejected: %s (%s)", reason, hint)
    return Unauthorized(reason, error=error)
