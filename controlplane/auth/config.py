"""How the control plane is told whom to trust: identity providers, operator keys, App Service auth.

The whole configuration is one JSON app setting, parsed and checked here once, so that a typo fails
the first request with a message naming the field to fix, instead of quietly letting nobody in (or
everybody). Messages name fields, never echo values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from controlplane.domain.addresses import is_loopback_host

# Only asymmetric algorithms: a JWKS holds public keys, and verifying an HMAC with a public key as
# the secret is the classic algorithm-confusion forgery.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Same alphabet as owner ids (controlplane.domain.twin.validate_owner), so prefix + value can be one.
_OWNER_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,63}")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
MAX_LEEWAY_SECONDS = 300


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: must be a non-empty string")


def _require_jwks_uri(value: object) -> None:
    _require_text("jwks_uri", value)
    parts = urlsplit(str(value))
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return  # a local stand-in identity provider (tests, the offline sandbox)
    raise ValueError("jwks_uri: must be an https:// URL (http:// only for a loopback host)")


def _require_prefix(name: str, value: object) -> None:
    if not isinstance(value, str) or not _OWNER_PREFIX.fullmatch(value):
        raise ValueError(f"{name}: must be 1-64 characters of letters, digits and . _ : @ + - (e.g. github:)")


@dataclass(frozen=True, kw_only=True)
class OidcIssuer:
    """One OpenID Connect identity provider whose access tokens we accept."""

    issuer: str  # the exact `iss` value
    audience: str  # the `aud` the token must carry: this control plane's API identifier
    jwks_uri: str
    owner_prefix: str  # e.g. "github:": keeps each provider's subjects in its own namespace
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    owner_claim: str = "sub"
    operator_role: str | None = None  # a value of role_claim that makes the caller an operator
    role_claim: str = "roles"

    def __post_init__(self) -> None:
        _require_text("issuer", self.issuer)
        _require_text("audience", self.audience)
        _require_jwks_uri(self.jwks_uri)
        _require_prefix("owner_prefix", self.owner_prefix)
        if not isinstance(self.algorithms, tuple) or not self.algorithms:
            raise ValueError("algorithms: must be a non-empty list")
        for algorithm in self.algorithms:
            if algorithm not in ASYMMETRIC_ALGORITHMS:
                raise ValueError(
                    f"algorithms: must be drawn from {', '.join(sorted(ASYMMETRIC_ALGORITHMS))} "
                    "('none' and HMAC algorithms are never accepted)"
                )
        _require_text("owner_claim", self.owner_claim)
        _require_text("role_claim", self.role_claim)
        if self.operator_role is not None:
            _require_text("operator_role", self.operator_role)


@dataclass(frozen=True, kw_only=True)
class AuthConfig:
    """Everything the Authenticator trusts. Parse the app setting with ``AuthConfig.from_json``."""

    issuers: tuple[OidcIssuer, ...] = ()
    # sha256 hex digests of operator API keys; several at once so a key can be rotated without
    # downtime. The keys themselves live only with the operators (or in Key Vault), never here.
    operator_key_hashes: tuple[str, ...] = ()
    # Trust X-MS-CLIENT-PRINCIPAL only when App Service Authentication is on: only then does the
    # platform strip that header from client requests, so anyone could forge it otherwise.
    platform_auth: bool = False
    platform_owner_prefix: str = "aad:"
    platform_operator_role: str | None = None
    leeway_seconds: int = 60

    def __post_init__(self) -> None:
        if not isinstance(self.issuers, tuple) or not all(isinstance(i, OidcIssuer) for i in self.issuers):
            raise ValueError("issuers: must be a list of issuer objects")
        seen: set[str] = set()
        for index, issuer in enumerate(self.issuers):
            if issuer.issuer in seen:
                raise ValueError(f"issuers[{index}].issuer: the same issuer is configured twice")
            seen.add(issuer.issuer)
        if not isinstance(self.operator_key_hashes, tuple):
            raise ValueError("operator_key_hashes: must be a list of sha256 hex digests")
        for index, digest in enumerate(self.operator_key_hashes):
            if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
                raise ValueError(f"operator_key_hashes[{index}]: must be a sha256 hex digest (64 hex characters)")
        object.__setattr__(self, "operator_key_hashes", tuple(d.lower() for d in self.operator_key_hashes))
        if not isinstance(self.platform_auth, bool):
            raise ValueError("platform_auth: must be true or false")
        _require_prefix("platform_owner_prefix", self.platform_owner_prefix)
        if self.platform_operator_role is not None:
            _require_text("platform_operator_role", self.platform_operator_role)
        if (
            not isinstance(self.leeway_seconds, int)
            or isinstance(self.leeway_seconds, bool)
            or not 0 <= self.leeway_seconds <= MAX_LEEWAY_SECONDS
        ):
            raise ValueError(f"leeway_seconds: must be a whole number from 0 to {MAX_LEEWAY_SECONDS}")
        if not self.issuers and not self.operator_key_hashes and not self.platform_auth:
            raise ValueError("auth config: configures no way to authenticate (no issuers, keys or platform_auth)")

    @classmethod
    def from_json(cls, text: str) -> AuthConfig:
        """Parse the JSON app setting. Raises ValueError naming the bad field."""
        try:
            document = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError("auth config: is not valid JSON") from exc
        if not isinstance(document, dict):
            raise ValueError("auth config: must be a JSON object")
        values = _known_fields(cls, document, "")
        issuers = values.get("issuers", [])
        if not isinstance(issuers, list):
            raise ValueError("issuers: must be a list of issuer objects")
        values["issuers"] = tuple(_issuer_from_json(index, item) for index, item in enumerate(issuers))
        if "operator_key_hashes" in values:
            values["operator_key_hashes"] = _as_tuple("operator_key_hashes", values["operator_key_hashes"])
        return cls(**values)


def _issuer_from_json(index: int, item: object) -> OidcIssuer:
    where = f"issuers[{index}]."
    if not isinstance(item, dict):
        raise ValueError(f"issuers[{index}]: must be an object")
    values = _known_fields(OidcIssuer, item, where)
    for required in ("issuer", "audience", "jwks_uri", "owner_prefix"):
        if required not in values:
            raise ValueError(f"{where}{required}: is required")
    if "algorithms" in values:
        values["algorithms"] = _as_tuple(f"{where}algorithms", values["algorithms"])
    try:
        return OidcIssuer(**values)
    except ValueError as exc:
        raise ValueError(f"{where}{exc}") from None


def _known_fields(cls: type, document: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name for f in fields(cls)}
    unknown = sorted(str(key) for key in document if key not in known)
    if unknown:
        raise ValueError(f"{where.rstrip('.') or 'auth config'}: unknown field(s) {', '.join(unknown)}")
    return dict(document)


def _as_tuple(name: str, value: object) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{name}: must be a list")
    return tuple(value)
