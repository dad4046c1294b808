"""Fixtures for the auth tests: real keys, a real JWKS over loopback HTTP, fake time, a leak guard.

Every test here runs under ``leak_guard``: all log records (captured at DEBUG) are checked for every
token, API key and secret claim value the test made, registered through the ``secrets`` fixture.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from controlplane.auth import AuthConfig, Authenticator, OidcIssuer, hash_api_key

ISSUER = "https://token.actions.example.com"
OTHER_ISSUER = "https://login.example.org/tenant/v2.0"
AUDIENCE = "api://twinstack-control-plane"
START = 1_750_000_000.0
OPERATOR_KEYS = ("cp-operator-key-old-7f3a9c", "cp-operator-key-new-1b8e44")
SECRET_EMAIL = "juan.secret@example.com"
LOGIN = "wildfeuer05"
WORKFLOW_SUBJECT = "repo:wildhaven/twins:ref:refs/heads/main"


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any
    jwk: dict[str, Any]


def _signing_key(kid: str, algorithm: str, private: Any) -> SigningKey:
    jwk = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(private.public_key()))
    jwk.update(kid=kid, use="sig", alg=algorithm)
    return SigningKey(kid, algorithm, private, jwk)


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return _signing_key("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_key() -> SigningKey:
    return _signing_key("ec-1", "ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def rotated_key() -> SigningKey:
    return _signing_key("rsa-2", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class JwksServer:
    """A loopback identity provider's JWKS endpoint. Counts requests; can be made to fail."""

    keys: list[dict[str, Any]]
    status: int = 200
    requests: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def jwks_server(rsa_key: SigningKey, ec_key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> Iterator[JwksServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = JwksServer(keys=[rsa_key.jwk, ec_key.jwk])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            with state.lock:
                state.requests += 1
                status, body = state.status, json.dumps({"keys": state.keys}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Secrets:
    """Values that must never appear in a log line or an error message."""

    def __init__(self) -> None:
        self.values: set[str] = {SECRET_EMAIL, LOGIN, WORKFLOW_SUBJECT, *OPERATOR_KEYS}

    def add(self, *values: str) -> None:
        self.values.update(v for v in values if v)

    def find_in(self, text: str) -> list[str]:
        return sorted(value for value in self.values if value in text)


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture(autouse=True)
def leak_guard(caplog: pytest.LogCaptureFixture, secrets: Secrets) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    # At teardown caplog.records holds only teardown's records: ask for the test's own phases.
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = f"{record.getMessage()} {record.exc_text or ''}"
        assert not secrets.find_in(text), f"secret in log line: {record.name}: {record.getMessage()!r}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def issuer(jwks_server: JwksServer) -> OidcIssuer:
    return OidcIssuer(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_uri=jwks_server.url,
        owner_prefix="github:",
        owner_claim="login",
        operator_role="twinstack.operator",
    )


@pytest.fixture
def config(issuer: OidcIssuer) -> AuthConfig:
    return AuthConfig(issuers=(issuer,), operator_key_hashes=tuple(hash_api_key(k) for k in OPERATOR_KEYS))


@pytest.fixture
def authenticator(config: AuthConfig, clock: FakeClock) -> Authenticator:
    return Authenticator(config, clock=clock)  # the real requests-based JWKS fetch, over loopback


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenFactory:
    def __init__(self, clock: FakeClock, secrets: Secrets) -> None:
        self.clock = clock
        self.secrets = secrets

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "login": LOGIN,
            "sub": WORKFLOW_SUBJECT,
            "email": SECRET_EMAIL,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(
        self, key: SigningKey, *, kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        token = jwt.encode(
            self.claims(**claims),
            key.private,
            algorithm=key.algorithm,
            headers={"kid": kid or key.kid, **(headers or {})},
        )
        return self.register(token)

    def register(self, token: str) -> str:
        self.secrets.add(token, *token.split(".")[1:])
        return token


@pytest.fixture
def tokens(clock: FakeClock, secrets: Secrets) -> TokenFactory:
    return TokenFactory(clock, secrets)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
