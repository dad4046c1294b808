"""Authentication in one place: request headers in, a Principal (or Unauthorized) out.

It knows nothing of Azure Functions types, only a mapping of headers, so every entry point (HTTP
routes, tests, a CLI) authenticates the same way. Three credentials are understood:

* ``Authorization: Bearer <JWT>`` from a configured OpenID Connect provider (see ``bearer``);
* ``x-api-key: <key>`` or ``Authorization: ApiKey <key>``: an operator key, matched by its sha256;
* ``X-MS-CLIENT-PRINCIPAL`` from App Service Authentication, only when ``platform_auth`` is on. It
  then wins over the other two, because the platform has already checked whatever the client sent
  (and passes the client's Authorization header through untouched).

A request carrying both a bearer token and an API key is refused rather than guessed at.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping

from controlplane.auth.bearer import BearerVerifier
from controlplane.auth.config import AuthConfig
from controlplane.auth.errors import Unauthorized
from controlplane.auth.jwks import JwksCache, JwksFetch, fetch_jwks
from controlplane.auth.platform_principal import HEADER as PLATFORM_HEADER
from controlplane.auth.platform_principal import principal_from_platform
from controlplane.auth.principal import Principal

log = logging.getLogger(__name__)

MAX_API_KEY_LENGTH = 1024


def hash_api_key(key: str) -> str:
    """The value to put in ``operator_key_hashes`` for an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Authenticator:
    """Build one per configuration and keep it: it caches the providers' signing keys.

    ``jwks_fetch(uri) -> dict`` replaces the HTTP fetch of signing keys; ``clock() -> float`` (epoch
    seconds) replaces ``time.time`` for token lifetimes and key caching. Both exist for tests.
    """

    def __init__(
        self, config: AuthConfig, *, jwks_fetch: JwksFetch | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        self._config = config
        clock = clock or time.time
        self._bearer = BearerVerifier(config, JwksCache(jwks_fetch or fetch_jwks, clock), clock)

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller. Raises Unauthorized (401) or AuthenticationUnavailable (503)."""
        principal = self._authenticate(_lowercase(headers))
        log.debug("authenticated kind=%s via=%s %s", principal.kind, principal.via, principal.subject_hint)
        return principal

    def _authenticate(self, headers: dict[str, str]) -> Principal:
        if self._config.platform_auth and PLATFORM_HEADER in headers:
            return principal_from_platform(headers[PLATFORM_HEADER], self._config)
        authorization, api_key = headers.get("authorization"), headers.get("x-api-key")
        if authorization is not None and api_key is not None:
            raise _malformed("send one credential, not both Authorization and x-api-key")
        if api_key is not None:
            return self._operator_by_key(api_key.strip())
        if authorization is None:
            log.debug("no credential presented")
            raise Unauthorized()
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() not in ("bearer", "apikey"):
            raise _malformed("unsupported authorization scheme")
        if not credentials or any(ch.isspace() for ch in credentials):
            raise _malformed("malformed authorization header")
        if scheme.lower() == "apikey":
            return self._operator_by_key(credentials)
        return self._bearer.verify(credentials)

    def _operator_by_key(self, key: str) -> Principal:
        if not key or len(key) > MAX_API_KEY_LENGTH:
            raise _malformed("malformed api key")
        try:
            digest = hash_api_key(key)
        except UnicodeEncodeError:
            raise _malformed("malformed api key") from None
        # Compare against every configured hash, always: how long this takes must not depend on
        # which (if any) hash matched, or how much of one did.
        matches = [hmac.compare_digest(digest, expected) for expected in self._config.operator_key_hashes]
        if not any(matches):
            log.info("api key rejected")
            raise Unauthorized("invalid api key", error="invalid_token")
        # The slot number tells operators which key is still in use during a rotation.
        return Principal(kind="operator", owner=None, via="api-key", subject_hint=f"api-key slot={matches.index(True)}")


def _lowercase(headers: Mapping[str, str]) -> dict[str, str]:
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in lowered and lowered[key] != value:
            raise _malformed("conflicting duplicate header")
        lowered[key] = value
    return lowered


def _malformed(reason: str) -> Unauthorized:
    log.info("request rejected: %s", reason)
    return Unauthorized(reason, error="invalid_request")
