"""One sweep through every path, good and bad, with all logging captured at DEBUG.

The autouse ``leak_guard`` already checks each test's log records; this test additionally runs
every case in one place, checks that the logs really did record each outcome (so the guard is not
vacuous), and checks the error messages and challenges clients receive.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest

from controlplane.auth import AuthConfig, AuthenticationUnavailable, Authenticator, Unauthorized
from tests.auth.conftest import (
    OPERATOR_KEYS,
    FakeClock,
    JwksServer,
    Secrets,
    SigningKey,
    TokenFactory,
    b64url,
    bearer,
)


def test_no_token_key_or_claim_value_is_logged_or_returned(
    caplog: pytest.LogCaptureFixture,
    config: AuthConfig,
    clock: FakeClock,
    tokens: TokenFactory,
    secrets: Secrets,
    rsa_key: SigningKey,
    ec_key: SigningKey,
    jwks_server: JwksServer,
) -> None:
    caplog.set_level(logging.DEBUG)
    platform_config = AuthConfig(
        issuers=config.issuers,
        operator_key_hashes=config.operator_key_hashes,
        platform_auth=True,
        platform_operator_role="TwinStack.Operator",
    )
    authenticator = Authenticator(platform_config, clock=clock)
    now = int(clock())
    object_id = "5f0c7a1e-0000-4c3b-9d5e-8a7b6c5d4e3f"
    wrong_key = "cp-operator-key-wrong-5a5a5a"
    secrets.add(object_id, wrong_key, "twinstack.operator-secretish")
    header, _, signature = tokens.sign(rsa_key).split(".")
    tampered = tokens.register(f"{header}.{b64url(json.dumps(tokens.claims(login='mallory')).encode())}.{signature}")
    secrets.add("mallory")
    unsigned = tokens.register(b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(tokens.claims()).encode()) + ".")
    principal_header = base64.b64encode(
        json.dumps({"auth_typ": "aad", "claims": [{"typ": "oid", "val": object_id}]}).encode()
    ).decode()

    cases: list[dict[str, str]] = [
        bearer(tokens.sign(rsa_key)),
        bearer(tokens.sign(ec_key, roles=["twinstack.operator"])),
        bearer(tokens.sign(rsa_key, exp=now - 3600)),
        bearer(tokens.sign(rsa_key, nbf=now + 3600)),
        bearer(tokens.sign(rsa_key, iss="https://evil.example.com")),
        bearer(tokens.sign(rsa_key, aud="api://someone-else")),
        bearer(tokens.sign(rsa_key, login="bad/owner", roles=["twinstack.operator-secretish"])),
        bearer(tokens.sign(rsa_key, kid="unknown")),
        bearer(tokens.sign(ec_key, kid=rsa_key.kid)),
        bearer(tampered),
        bearer(unsigned),
        bearer("garbage." + tokens.register("bm90LWEtand0")),
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {tokens.register('dXNlcjpzM2NyZXQ=')}"},
        {"x-api-key": OPERATOR_KEYS[0]},
        {"Authorization": f"ApiKey {OPERATOR_KEYS[1]}"},
        {"x-api-key": wrong_key},
        {"x-api-key": wrong_key, **bearer(tokens.sign(rsa_key))},
        {"X-MS-CLIENT-PRINCIPAL": principal_header},
        {"X-MS-CLIENT-PRINCIPAL": "!!" + tokens.register("Z2FyYmFnZQ")},
        {},
    ]
    outcomes: list[str] = []
    for headers in cases:
        try:
            principal = authenticator.authenticate(headers)
            outcomes.append(f"{principal.kind} {principal.via} {principal.subject_hint}")
        except Unauthorized as exc:
            outcomes.append(f"{exc.detail} {exc.www_authenticate} {exc}")
    jwks_server.status = 500
    clock.advance(3600)
    try:
        authenticator.authenticate(bearer(tokens.sign(rsa_key, kid="rotated")))
    except (Unauthorized, AuthenticationUnavailable) as exc:
        outcomes.append(str(exc))

    logged = "\n".join(f"{r.levelname} {r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert secrets.find_in(logged) == []
    assert secrets.find_in("\n".join(outcomes)) == []
    for expected in (
        "authenticated kind=owner via=bearer",
        "authenticated kind=operator via=api-key",
        "authenticated kind=owner via=platform",
        "token expired",
        "unknown issuer",
        "unknown signing key",
        "signature mismatch",
        "owner claim is not a valid owner id",
        "api key rejected",
        "no credential presented",
        "JWKS fetch failed",
    ):
        assert expected in logged, expected
