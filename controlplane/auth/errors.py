"""What a failed authentication or authorization means for the caller, as exceptions.

They extend the control plane's ``ControlPlaneError`` so the HTTP layer maps them to problem+json in
the same one place as every other error. Every ``detail`` here is a fixed phrase chosen by this
package: never a token, key or claim value, so it is safe to log and to return to the client.
"""

from __future__ import annotations

from controlplane.domain.errors import ControlPlaneError, InvalidInput

REALM = "twinstack"


class Unauthorized(ControlPlaneError):
    """401: no credential, a malformed one, or one we could not verify.

    ``error`` is the RFC 6750 error code (``invalid_request`` or ``invalid_token``), or None when the
    request simply carried no credential. ``www_authenticate`` is the header value to answer with.
    """

    status = 401
    type = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str = "authentication required", *, error: str | None = None) -> None:
        super().__init__(detail)
        self.error = error
        challenge = f'Bearer realm="{REALM}"'
        if error is not None:
            # RFC 6750 forbids '"' and '\' in these values; ours are fixed phrases, but be certain.
            description = "".join(ch for ch in detail if ch not in '"\\' and 0x20 <= ord(ch) < 0x7F)
            challenge += f', error="{error}", error_description="{description}"'
        self.www_authenticate = challenge

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the HTTP layer must add to the 401."""
        return {"WWW-Authenticate": self.www_authenticate}


class Forbidden(ControlPlaneError):
    """403: the caller is who they say, but may not do this (e.g. act for another owner)."""

    status = 403
    type = "forbidden"
    title = "Forbidden"

    def __init__(self, detail: str = "not allowed for this principal") -> None:
        super().__init__(detail)


class InvalidOwner(InvalidInput, ValueError):
    """400: the owner named in a request is missing or not a valid owner id."""

    def __init__(self, detail: str) -> None:
        super().__init__("owner", detail)


class AuthenticationUnavailable(ControlPlaneError):
    """503: the identity provider's signing keys could not be fetched and none are cached.

    Transient: the client should retry later. Not a 401, because the credential may be fine.
    """

    status = 503
    type = "authentication-unavailable"
    title = "Authentication unavailable"

    @property
    def headers(self) -> dict[str, str]:
        # The JWKS cache retries a failed fetch after 30 s (jwks.JWKS_REFETCH_INTERVAL_SECONDS).
        return {"Retry-After": "30"}
