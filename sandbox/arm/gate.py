"""The first checks every request passes, as ARM's front door makes them: a bearer token, a JSON body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .messages import ArmError


def authenticate(headers: Mapping[str, str]) -> None:
    """ARM refuses anonymous calls; the token itself is not checked (nor ever recorded).

    The codes and texts are ARM's own, as users quote them: 401 ``AuthenticationFailed`` "Authentication
    failed. The 'Authorization' header is missing." (Azure/azure-sdk-for-net#4103,
    hashicorp/terraform-provider-azurerm#3612) and ``AuthenticationFailedInvalidHeader`` "Authentication
    failed. The 'Authorization' header is provided in an invalid format." (Azure/azure-sdk-for-python#4124).
    """
    authorization_header = headers.get("authorization") or ""
    scheme, _, token = authorization_header.partition(" ")
    if not authorization_header:
        code, why = "AuthenticationFailed", "The 'Authorization' header is missing."
    elif scheme.lower() != "bearer" or not token.strip():
        code, why = "AuthenticationFailedInvalidHeader", "The 'Authorization' header is provided in an invalid format."
    else:
        return
    raise ArmError(
        401,
        code,
        f"Authentication failed. {why}",
        headers={
            "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            'error="invalid_token", error_description="The authentication failed because of '
            "missing 'Authorization' header.\""
        },
    )


def parse_body(raw_body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not raw_body.strip():
        return None, None
    try:
        parsed = json.loads(raw_body)
    except ValueError as error:
        return None, str(error)
    return (parsed, None) if isinstance(parsed, dict) else ({"value": parsed}, None)
