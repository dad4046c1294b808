"""Bearer tokens as the stand-ins read them: Microsoft Entra ID access tokens are JWTs, and every
Azure service first checks the token's ``aud`` claim against its own audience.

The stand-ins check no signature (there is no Entra ID here); they do check what the product could
get wrong: that a token is a JWT at all and that it was asked for the service it is sent to. A token
minted for ARM and sent to Event Grid is refused as Event Grid would refuse it.

Audiences (what ``get_token(scope)`` yields for ``scope = audience + "/.default"``):

* ARM: ``https://management.azure.com`` and its three aliases, ARM's own list in its
  ``InvalidAuthenticationTokenAudience`` answer ("It should exactly match with one of the allowed
  audiences 'https://management.core.windows.net/','https://management.core.windows.net',
  'https://management.azure.com/','https://management.azure.com'", as users quote it:
  Azure-Samples/active-directory-dotnetcore-daemon-v2#145, JetBrains/azure-tools-for-intellij#16).
* An app's scm site (Kudu, One Deploy): the same ARM token — azd's ``FuncAppHostClient``
  (azure-dev ``pkg/azsdk/funcapp_host_client.go``) builds its pipeline with ``armruntime.NewPipeline``,
  whose bearer policy asks for the ARM audience.
* Event Grid: ``https://eventgrid.azure.net`` (azure-eventgrid ``_legacy/_constants.py``
  ``DEFAULT_EVENTGRID_SCOPE = "https://eventgrid.azure.net/.default"``, the scope its publisher client
  asks for; Learn: event-grid/authenticate-with-microsoft-entra-id).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

ARM_AUDIENCES = frozenset(
    {
        "https://management.core.windows.net/",
        "https://management.core.windows.net",
        "https://management.azure.com/",
        "https://management.azure.com",
    }
)
EVENTGRID_AUDIENCES = frozenset({"https://eventgrid.azure.net", "https://eventgrid.azure.net/"})
# The object id the sandbox's identity has (what ARM names in AuthorizationFailed).
SANDBOX_OBJECT_ID = "3b0f5a0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def mint(audience: str, *, object_id: str = SANDBOX_OBJECT_ID, lifetime_seconds: int = 3600) -> str:
    """An unsigned JWT with Entra's claims the stand-ins read (``aud``, ``oid``, ``exp``)."""
    now = int(time.time())
    claims = {"aud": audience, "oid": object_id, "iat": now, "exp": now + lifetime_seconds}
    return f"{_segment({'typ': 'JWT', 'alg': 'none'})}.{_segment(claims)}."


def claims_of(token: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    return decoded if isinstance(decoded, dict) else None


def bearer_claims(authorization: str | None) -> dict[str, Any] | None:
    """Claims of an ``Authorization: Bearer <jwt>`` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return claims_of(token.strip())
