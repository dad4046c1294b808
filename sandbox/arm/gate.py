"""The first checks every request passes, as ARM's front door makes them: a bearer token for ARM, a JSON body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sandbox.tokens import ARM_AUDIENCES, claims_of

from .messages import ArmError


def authenticate(headers: Mapping[str, str]) -> str:
    """ARM refuses anonymous calls and tokens for another audience; answers the caller's object id.

    The codes and texts are ARM's own, as users quote them: 401 ``AuthenticationFailed`` "Authentication
    failed. The 'Authorization' header is missing." (Azure/azure-sdk-for-net#4103,
    hashicorp/terraform-provider-azurerm#3612) and ``AuthenticationFailedInvalidHeader`` "Authentication
    failed. The 'Authorization' header is provided in an invalid format." (Azure/azure-sdk-for-python#4124);
    401 ``InvalidAuthenticationToken`` "The access token is invalid." for a token that is no JWT; 401
    ``InvalidAuthenticationTokenAudience`` for a token asked for another service, naming ARM's allowed
    audiences (sandbox/tokens.py). The signature is not checked (there is no Entra ID here).
    """
    authorization_header = headers.get("authorization") or ""
    scheme, _, token = authorization_header.partition(" ")
    if not authorization_header:
        code, why = "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
    elif scheme.lower() != "bearer" or not token.strip():
        code, why = (
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        )
    elif (claims := claims_of(token.strip())) is None:
        code, why = "InvalidAuthenticationToken", "The access token is invalid."
    elif claims.get("aud") not in ARM_AUDIENCES:
        code, why = (
            "InvalidAuthenticationTokenAudience",
            (
                f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. It "
                "should exactly match with one of the allowed audiences 'https://management.core.windows.net/',"
                "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
            ),
        )
    else:
        return str(claims.get("oid") or "")
    raise ArmError(
        401,
        code,
        why,
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
