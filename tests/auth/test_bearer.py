"""Bearer tokens: real RS256/ES256 signatures, verified against a JWKS served over loopback HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from controlplane.auth import AuthConfig, Authenticator, OidcIssuer, Principal, Unauthorized
from tests.auth.conftest import (
    AUDIENCE,
    ISSUER,
    OTHER_ISSUER,
    FakeClock,
    JwksServer,
    SigningKey,
    TokenFactory,
    b64url,
    bearer,
)


def rejected(authenticator: Authenticator, headers: dict[str, str]) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        authenticator.authenticate(headers)
    return caught.value


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"], ids=["RS256", "ES256"])
def test_valid_token_makes_an_owner_with_the_issuer_prefix(
    key_name: str, request: pytest.FixtureRequest, authenticator: Authenticator, tokens: TokenFactory
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)

    principal = authenticator.authenticate(bearer(tokens.sign(key)))

    assert principal == Principal(
        kind="owner",
        owner="github:wildfeuer05",
        via="bearer",
        subject_hint=f"issuer=token.actions.example.com kid={key.kid}",
    )


def test_operator_role_in_role_claim_makes_an_operator(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey
) -> None:
    as_list = authenticator.authenticate(bearer(tokens.sign(rsa_key, roles=["reader", "twinstack.operator"])))
    as_string = authenticator.authenticate(bearer(tokens.sign(rsa_key, roles="twinstack.operator")))
    other_role = authenticator.authenticate(bearer(tokens.sign(rsa_key, roles=["twinstack.operator.not"])))

    assert (as_list.kind, as_list.owner) == ("operator", None)
    assert (as_string.kind, as_string.owner) == ("operator", None)
    assert (other_role.kind, other_role.owner) == ("owner", "github:wildfeuer05")


def test_scheme_and_header_names_are_case_insensitive(
    authenticator: Authenticator, tokens: TokenFactory, ec_key: SigningKey
) -> None:
    principal = authenticator.authenticate({"AUTHORIZATION": f"bearer {tokens.sign(ec_key)}"})

    assert principal.owner == "github:wildfeuer05"


def test_second_issuer_maps_its_own_claim_and_prefix(
    jwks_server: JwksServer, issuer: OidcIssuer, clock: FakeClock, tokens: TokenFactory, ec_key: SigningKey
) -> None:
    entra = OidcIssuer(
        issuer=OTHER_ISSUER, audience="api://cp", jwks_uri=jwks_server.url, owner_prefix="entra:", owner_claim="oid"
    )
    authenticator = Authenticator(AuthConfig(issuers=(issuer, entra)), clock=clock)
    oid = "0b1c2d3e-aaaa-bbbb-cccc-111122223333"
    tokens.secrets.add(oid)

    principal = authenticator.authenticate(bearer(tokens.sign(ec_key, iss=OTHER_ISSUER, aud="api://cp", oid=oid)))

    assert principal.owner == f"entra:{oid}"
    assert principal.subject_hint == "issuer=login.example.org kid=ec-1"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        pytest.param({"exp": -61}, "token expired", id="expired-beyond-leeway"),
        pytest.param({"nbf": +61}, "token not yet valid", id="nbf-in-future"),
        pytest.param({"iat": +61}, "token issued in the future", id="iat-in-future"),
        pytest.param({"aud": "api://someone-else"}, "audience mismatch", id="wrong-aud"),
        pytest.param({"aud": None}, "token has no aud claim", id="no-aud"),
        pytest.param({"exp": None}, "token has no exp claim", id="no-exp"),
        pytest.param({"exp": "tomorrow"}, "malformed exp claim", id="exp-not-a-number"),
        pytest.param({"login": None}, "token has no owner claim", id="no-owner-claim"),
        pytest.param({"login": "juan/../admin"}, "owner claim is not a valid owner id", id="bad-owner-claim"),
    ],
)
def test_claims_are_checked_against_our_clock_with_leeway(
    claims: dict[str, Any],
    reason: str,
    authenticator: Authenticator,
    tokens: TokenFactory,
    rsa_key: SigningKey,
    clock: FakeClock,
) -> None:
    now = int(clock())
    shifted: dict[str, Any] = {
        name: now + value if name in ("exp", "nbf", "iat") and isinstance(value, int) else value
        for name, value in claims.items()
    }

    error = rejected(authenticator, bearer(tokens.sign(rsa_key, **shifted)))

    assert (error.error, error.detail) == ("invalid_token", reason)
    assert error.www_authenticate == f'Bearer realm="twinstack", error="invalid_token", error_description="{reason}"'


def test_leeway_tolerates_small_clock_skew(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, clock: FakeClock
) -> None:
    now = int(clock())

    principal = authenticator.authenticate(bearer(tokens.sign(rsa_key, exp=now - 59, nbf=now + 59, iat=now + 59)))

    assert principal.owner == "github:wildfeuer05"


def test_token_expires_as_fake_time_passes(
    authenticator: Authenticator, tokens: TokenFactory, ec_key: SigningKey, clock: FakeClock
) -> None:
    token = tokens.sign(ec_key)
    authenticator.authenticate(bearer(token))

    clock.advance(300 + 60)

    assert rejected(authenticator, bearer(token)).detail == "token expired"


def test_wrong_issuer_is_rejected_before_any_key_fetch(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    for wrong in (ISSUER + "/", "https://evil.example.com", ISSUER.upper()):
        assert rejected(authenticator, bearer(tokens.sign(rsa_key, iss=wrong))).detail == "unknown issuer"
    assert rejected(authenticator, bearer(tokens.sign(rsa_key, iss=None))).detail == "unknown issuer"
    assert jwks_server.requests == 0


def test_alg_none_is_rejected(authenticator: Authenticator, tokens: TokenFactory) -> None:
    token = tokens.register(forge({"alg": "none", "kid": "rsa-1"}, tokens.claims(), lambda _: b""))

    error = rejected(authenticator, bearer(token))

    assert (error.error, error.detail) == ("invalid_token", "algorithm not allowed")


def test_hs256_signed_with_the_public_key_pem_is_rejected(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    pem = rsa_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = tokens.register(
        forge(
            {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"},
            tokens.claims(),
            lambda data: hmac.new(pem, data, hashlib.sha256).digest(),
        )
    )

    assert rejected(authenticator, bearer(token)).detail == "algorithm not allowed"
    assert jwks_server.requests == 0  # refused before any key was looked at


def test_algorithm_outside_the_issuers_allow_list_is_rejected(
    jwks_server: JwksServer, issuer: OidcIssuer, clock: FakeClock, tokens: TokenFactory, ec_key: SigningKey
) -> None:
    rsa_only = OidcIssuer(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_uri=jwks_server.url,
        owner_prefix="github:",
        owner_claim="login",
        algorithms=("RS256",),
    )
    authenticator = Authenticator(AuthConfig(issuers=(rsa_only,)), clock=clock)

    assert rejected(authenticator, bearer(tokens.sign(ec_key))).detail == "algorithm not allowed"


def test_tampered_payload_fails_the_signature(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey
) -> None:
    header, _, signature = tokens.sign(rsa_key).split(".")
    payload = b64url(json.dumps(tokens.claims(login="someone-else", roles=["twinstack.operator"])).encode())
    token = tokens.register(f"{header}.{payload}.{signature}")

    assert rejected(authenticator, bearer(token)).detail == "signature mismatch"


def test_key_type_must_match_the_algorithm(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    # An EC-signed token that names the RSA key's kid, and the other way round.
    ec_signed = tokens.sign(ec_key, kid=rsa_key.kid)
    rsa_signed = tokens.sign(rsa_key, kid=ec_key.kid)

    assert rejected(authenticator, bearer(ec_signed)).detail == "signing key does not match algorithm"
    assert rejected(authenticator, bearer(rsa_signed)).detail == "signing key does not match algorithm"


def test_token_without_kid_is_rejected(authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey) -> None:
    token = tokens.register(jwt.encode(tokens.claims(), rsa_key.private, algorithm="RS256"))  # no kid at all

    assert rejected(authenticator, bearer(token)).detail == "token has no key id"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="no-dots"),
        pytest.param("a.b.c", id="not-base64-json"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.sig.extra", id="four-segments"),
        pytest.param("x" * 20_000, id="too-long"),
    ],
)
def test_garbage_tokens_are_invalid_tokens(token: str, authenticator: Authenticator, jwks_server: JwksServer) -> None:
    error = rejected(authenticator, bearer(token))

    assert (error.error, error.detail) == ("invalid_token", "malformed token")
    assert jwks_server.requests == 0
