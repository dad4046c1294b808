"""Verifying an OpenID Connect access token (a JWT) and turning it into a Principal.

The order matters. The unverified ``iss`` only chooses which provider's configuration to use; the
header's ``alg`` must be on that provider's allow-list before any key is touched (never ``none``,
never HMAC); the key is chosen by ``kid`` and must be of the algorithm's type; only then does PyJWT
check the signature, ``iss`` (exactly) and ``aud``. Times are checked against our own clock, so
tests run on fake time. Rejections carry a short fixed reason and are logged with the issuer host
and key id only.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt

from controlplane.auth.config import ASYMMETRIC_ALGORITHMS, AuthConfig, OidcIssuer
from controlplane.auth.errors import Unauthorized
from controlplane.auth.jwks import JwksCache, UnknownSigningKey
from controlplane.auth.principal import Principal
from controlplane.domain.errors import InvalidInput
from controlplane.domain.twin import validate_owner

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 16 * 1024
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SAFE_KID = re.compile(r"[A-Za-z0-9._~+/=-]{1,128}")  # anything else is not echoed into logs
# Which JWK key type (and curve) each algorithm needs: an RSA key must never verify an EC
# signature and vice versa, whatever the token's header claims.
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}
_REQUIRED_CLAIMS = ["iss", "aud", "exp"]


class BearerVerifier:
    def __init__(self, config: AuthConfig, jwks: JwksCache, clock: Callable[[], float]) -> None:
        self._issuers = {issuer.issuer: issuer for issuer in config.issuers}
        self._leeway = config.leeway_seconds
        self._jwks = jwks
        self._clock = clock

    def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_LENGTH or not _JWT_SHAPE.fullmatch(token):
            raise _reject("malformed token", "issuer=?")
        try:
            unverified = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _reject("malformed token", "issuer=?") from None
        header, claims = unverified["header"], unverified["payload"]
        kid = header.get("kid")
        kid_hint = kid if isinstance(kid, str) and _SAFE_KID.fullmatch(kid) else "?"
        issuer = self._issuers.get(claims.get("iss")) if isinstance(claims.get("iss"), str) else None
        if issuer is None:
            raise _reject("unknown issuer", f"issuer=? kid={kid_hint}")
        hint = f"issuer={urlsplit(issuer.issuer).hostname or issuer.issuer} kid={kid_hint}"

        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS or algorithm not in issuer.algorithms:
            raise _reject("algorithm not allowed", hint)
        if not isinstance(kid, str) or not kid:
            raise _reject("token has no key id", hint)
        try:
            candidates = self._jwks.signing_keys(issuer.jwks_uri, kid)
        except UnknownSigningKey:
            raise _reject("unknown signing key", hint) from None
        jwk = _matching_key(candidates, algorithm)
        if jwk is None:
            raise _reject("signing key does not match algorithm", hint)
        try:
            key = jwt.PyJWK(jwk, algorithm=algorithm)
        except jwt.PyJWTError:
            log.warning("unusable signing key in JWKS %s", hint)
            raise _reject("unusable signing key", hint) from None

        verified = self._verify_signature_and_audience(token, key, algorithm, issuer, hint)
        self._check_times(verified, hint)
        return self._principal(verified, issuer, hint)

    def _verify_signature_and_audience(
        self, token: str, key: jwt.PyJWK, algorithm: str, issuer: OidcIssuer, hint: str
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=issuer.audience,
                issuer=issuer.issuer,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,  # checked against our clock in _check_times
                    "verify_nbf": False,
                    "verify_iat": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidSignatureError:
            raise _reject("signature mismatch", hint) from None
        except jwt.InvalidAudienceError:
            raise _reject("audience mismatch", hint) from None
        except jwt.InvalidIssuerError:
            raise _reject("issuer mismatch", hint) from None
        except jwt.MissingRequiredClaimError as exc:
            claim = exc.claim if exc.claim in _REQUIRED_CLAIMS else "required"
            raise _reject(f"token has no {claim} claim", hint) from None
        except jwt.InvalidAlgorithmError:
            raise _reject("algorithm not allowed", hint) from None
        except jwt.InvalidKeyError:
            raise _reject("unusable signing key", hint) from None
        except jwt.PyJWTError:
            raise _reject("invalid token", hint) from None
        if claims.get("iss") != issuer.issuer:  # PyJWT compared exactly too; this states the rule here
            raise _reject("issuer mismatch", hint)
        return claims

    def _check_times(self, claims: dict[str, Any], hint: str) -> None:
        times: dict[str, float] = {}
        for name in ("exp", "nbf", "iat"):
            if name in claims:
                value = claims[name]
                # bool is an int, and Python's JSON parser accepts Infinity and NaN: none is a time.
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise _reject(f"malformed {name} claim", hint)
                times[name] = float(value)
        now = self._clock()
        if times["exp"] <= now - self._leeway:
            raise _reject("token expired", hint)
        if "nbf" in times and times["nbf"] > now + self._leeway:
            raise _reject("token not yet valid", hint)
        if "iat" in times and times["iat"] > now + self._leeway:
            raise _reject("token issued in the future", hint)

    def _principal(self, claims: dict[str, Any], issuer: OidcIssuer, hint: str) -> Principal:
        roles = claims.get(issuer.role_claim)
        if isinstance(roles, str):
            roles = [roles]
        is_operator = isinstance(roles, list) and issuer.operator_role is not None and issuer.operator_role in roles
        if is_operator:
            return Principal(kind="operator", owner=None, via="bearer", subject_hint=hint)
        subject = claims.get(issuer.owner_claim)
        if isinstance(subject, int) and not isinstance(subject, bool):
            subject = str(subject)
        if not isinstance(subject, str) or not subject:
            raise _reject("token has no owner claim", hint)
        try:
            owner = validate_owner(issuer.owner_prefix + subject)
        except InvalidInput:
            raise _reject("owner claim is not a valid owner id", hint) from None
        return Principal(kind="owner", owner=owner, via="bearer", subject_hint=hint)


def _matching_key(candidates: list[dict[str, Any]], algorithm: str) -> dict[str, Any] | None:
    for jwk in candidates:
        if jwk.get("kty") != _KEY_TYPE[algorithm[:2]]:
            continue
        if "alg" in jwk and jwk["alg"] != algorithm:
            continue
        if algorithm in _CURVE and jwk.get("crv") != _CURVE[algorithm]:
            continue
        return jwk
    return None


def _reject(reason: str, hint: str) -> Unauthorized:
    log.info("bearer token rejected: %s (%s)", reason, hint)
    return Unauthorized(reason, error="invalid_token")
