"""A loopback OpenID provider for route-level auth tests: an RSA key, its JWKS, and token minting."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://login.example.test/tenant"
AUDIENCE = "api://twinstack-control-plane"
OPERATOR_ROLE = "TwinStack.Operator"


class IdentityProvider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = json.dumps(provider.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def jwks_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/keys"

    def auth_setting(self, operator_key_hash: str) -> str:
        """CP_AUTH for this provider (owners are github:<sub>) plus one operator key."""
        return json.dumps({
            "issuers": [{
                "issuer": ISSUER, "audience": AUDIENCE, "jwks_uri": self.jwks_uri, "owner_prefix": "github:",
                "operator_role": OPERATOR_ROLE,
            }],
            "operator_key_hashes": [operator_key_hash],
        })  # fmt: skip

    def token(self, sub: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "nbf": now, "exp": now + 600, **overrides}
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    def bearer(self, sub: str, **overrides: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, **overrides)}"}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
