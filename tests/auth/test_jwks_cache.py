"""Signing-key caching against a real loopback JWKS: refetch on an unknown kid, rate limits, outages.

The server counts requests, so each test states exactly how often the identity provider was asked.
"""

from __future__ import annotations

import pytest

from controlplane.auth import AuthConfig, AuthenticationUnavailable, Authenticator, Unauthorized
from tests.auth.conftest import FakeClock, JwksServer, SigningKey, TokenFactory, bearer


def reason(authenticator: Authenticator, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        authenticator.authenticate(bearer(token))
    return caught.value.detail


def test_keys_are_fetched_once_and_cached(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, ec_key: SigningKey, jwks_server: JwksServer
) -> None:
    for _ in range(3):
        authenticator.authenticate(bearer(tokens.sign(rsa_key)))
        authenticator.authenticate(bearer(tokens.sign(ec_key)))

    assert jwks_server.requests == 1


def test_unknown_kid_refetches_exactly_once_then_rejects(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    assert jwks_server.requests == 1

    assert reason(authenticator, tokens.sign(rsa_key, kid="made-up")) == "unknown signing key"
    assert jwks_server.requests == 2


def test_unknown_kid_on_a_cold_cache_fetches_only_once(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    assert reason(authenticator, tokens.sign(rsa_key, kid="made-up")) == "unknown signing key"
    assert jwks_server.requests == 1


def test_unknown_kid_refetches_are_rate_limited(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer, clock: FakeClock
) -> None:
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    for attempt in range(20):  # an attacker spraying made-up key ids
        assert reason(authenticator, tokens.sign(rsa_key, kid=f"made-up-{attempt}")) == "unknown signing key"
        clock.advance(1)
    assert jwks_server.requests == 2  # the initial fetch and one refetch, in 20 s

    clock.advance(10)  # 30 s after the refetch
    assert reason(authenticator, tokens.sign(rsa_key, kid="made-up-again")) == "unknown signing key"
    assert jwks_server.requests == 3


def test_rotated_in_key_is_accepted_after_refetch(
    authenticator: Authenticator,
    tokens: TokenFactory,
    rsa_key: SigningKey,
    rotated_key: SigningKey,
    jwks_server: JwksServer,
) -> None:
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))

    jwks_server.keys = [rotated_key.jwk]  # the provider rotates: old key gone, new kid published
    principal = authenticator.authenticate(bearer(tokens.sign(rotated_key)))

    assert principal.subject_hint.endswith("kid=rsa-2")
    assert jwks_server.requests == 2
    assert reason(authenticator, tokens.sign(rsa_key)) == "unknown signing key"  # retired with the refetch


def test_rotation_during_the_rate_limit_waits_for_the_interval(
    authenticator: Authenticator,
    tokens: TokenFactory,
    rsa_key: SigningKey,
    rotated_key: SigningKey,
    jwks_server: JwksServer,
    clock: FakeClock,
) -> None:
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    reason(authenticator, tokens.sign(rsa_key, kid="made-up"))  # uses up the refetch
    jwks_server.keys = [rsa_key.jwk, rotated_key.jwk]

    assert reason(authenticator, tokens.sign(rotated_key)) == "unknown signing key"
    clock.advance(30)
    assert authenticator.authenticate(bearer(tokens.sign(rotated_key))).via == "bearer"
    assert jwks_server.requests == 3


def test_keys_are_refreshed_after_the_ttl(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer, clock: FakeClock
) -> None:
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    clock.advance(599)
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    assert jwks_server.requests == 1

    clock.advance(1)
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    assert jwks_server.requests == 2


def test_provider_outage_keeps_serving_cached_keys(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer, clock: FakeClock
) -> None:
    authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    jwks_server.status = 500
    clock.advance(600)

    for _ in range(5):
        assert authenticator.authenticate(bearer(tokens.sign(rsa_key))).kind == "owner"
    assert jwks_server.requests == 2  # one failed refresh, then a back-off


def test_no_keys_at_all_is_unavailable_not_unauthorized(
    authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer, clock: FakeClock
) -> None:
    jwks_server.status = 503

    for _ in range(3):
        with pytest.raises(AuthenticationUnavailable) as caught:
            authenticator.authenticate(bearer(tokens.sign(rsa_key)))
    assert (caught.value.status, caught.value.headers) == (503, {"Retry-After": "30"})
    assert jwks_server.requests == 1  # failed fetches back off too

    jwks_server.status = 200
    clock.advance(30)
    assert authenticator.authenticate(bearer(tokens.sign(rsa_key))).kind == "owner"
    assert jwks_server.requests == 2


def test_injected_fetch_replaces_http(
    config: AuthConfig, clock: FakeClock, tokens: TokenFactory, ec_key: SigningKey
) -> None:
    fetched: list[str] = []

    def fetch(uri: str) -> dict[str, object]:
        fetched.append(uri)
        return {"keys": [ec_key.jwk, {"kid": "enc", "kty": "RSA", "use": "enc"}, {"kty": "EC"}, "junk"]}

    authenticator = Authenticator(config, jwks_fetch=fetch, clock=clock)

    assert authenticator.authenticate(bearer(tokens.sign(ec_key))).owner == "github:wildfeuer05"
    assert fetched == [config.issuers[0].jwks_uri]
