"""Parsing the auth app setting: defaults, and errors that name the field without echoing values."""

from __future__ import annotations

import json

import pytest

from controlplane.auth import AuthConfig, OidcIssuer, hash_api_key

GITHUB = {
    "issuer": "https://token.actions.githubusercontent.com",
    "audience": "api://twinstack",
    "jwks_uri": "https://token.actions.githubusercontent.com/.well-known/jwks",
    "owner_prefix": "github:",
}


def parse(document: object) -> AuthConfig:
    return AuthConfig.from_json(json.dumps(document))


def test_full_document_parses() -> None:
    digest = hash_api_key("k")
    config = parse(
        {
            "issuers": [
                {
                    **GITHUB,
                    "algorithms": ["RS256"],
                    "owner_claim": "actor",
                    "operator_role": "op",
                    "role_claim": "groups",
                }
            ],
            "operator_key_hashes": [digest.upper()],
            "platform_auth": True,
            "platform_owner_prefix": "entra:",
            "platform_operator_role": "TwinStack.Operator",
            "leeway_seconds": 30,
        }
    )

    assert config.issuers == (
        OidcIssuer(
            issuer=GITHUB["issuer"],
            audience="api://twinstack",
            jwks_uri=GITHUB["jwks_uri"],
            owner_prefix="github:",
            algorithms=("RS256",),
            owner_claim="actor",
            operator_role="op",
            role_claim="groups",
        ),
    )
    assert config.operator_key_hashes == (digest,)  # normalised to lower case
    assert (config.platform_auth, config.platform_owner_prefix, config.leeway_seconds) == (True, "entra:", 30)


def test_defaults() -> None:
    config = parse({"issuers": [GITHUB]})

    issuer = config.issuers[0]
    assert (issuer.algorithms, issuer.owner_claim, issuer.role_claim, issuer.operator_role) == (
        ("RS256", "ES256"),
        "sub",
        "roles",
        None,
    )
    assert (config.operator_key_hashes, config.platform_auth, config.platform_owner_prefix) == ((), False, "aad:")
    assert (config.platform_operator_role, config.leeway_seconds) == (None, 60)


def test_loopback_http_jwks_is_allowed_for_local_stand_ins() -> None:
    for uri in ("http://127.0.0.1:8123/jwks", "http://localhost/jwks", "http://[::1]:9/jwks"):
        assert parse({"issuers": [{**GITHUB, "jwks_uri": uri}]}).issuers[0].jwks_uri == uri


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "auth config: is not valid JSON", id="not-json"),
        pytest.param("[]", "auth config: must be a JSON object", id="not-object"),
        pytest.param('{"issuer": []}', "auth config: unknown field(s) issuer", id="typo-top-level"),
        pytest.param('{"issuers": {}}', "issuers: must be a list of issuer objects", id="issuers-not-list"),
        pytest.param('{"issuers": ["x"]}', "issuers[0]: must be an object", id="issuer-not-object"),
        pytest.param("{}", "auth config: configures no way to authenticate", id="nothing"),
        pytest.param('{"platform_auth": "yes"}', "platform_auth: must be true or false", id="platform-auth-string"),
        pytest.param(
            '{"platform_auth": true, "leeway_seconds": 3600}',
            "leeway_seconds: must be a whole number",
            id="leeway-too-big",
        ),
        pytest.param(
            '{"platform_auth": true, "platform_owner_prefix": ""}',
            "platform_owner_prefix: must be",
            id="empty-platform-prefix",
        ),
        pytest.param('{"operator_key_hashes": "abc"}', "operator_key_hashes: must be a list", id="hashes-not-list"),
        pytest.param(
            '{"operator_key_hashes": ["not-a-digest-SECRET"]}',
            "operator_key_hashes[0]: must be a sha256",
            id="hash-not-hex",
        ),
    ],
)
def test_bad_documents_name_the_field(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        AuthConfig.from_json(text)

    assert str(caught.value).startswith(message)
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        pytest.param({**GITHUB, "audience": ""}, "issuers[1].audience: must be a non-empty string", id="empty-aud"),
        pytest.param(
            {k: v for k, v in GITHUB.items() if k != "jwks_uri"}, "issuers[1].jwks_uri: is required", id="no-jwks"
        ),
        pytest.param(
            {**GITHUB, "jwks_uri": "http://idp.example.com/jwks"},
            "issuers[1].jwks_uri: must be an https://",
            id="plain-http",
        ),
        pytest.param({**GITHUB, "algorithms": ["HS256"]}, "issuers[1].algorithms: must be drawn from", id="hmac"),
        pytest.param({**GITHUB, "algorithms": ["none"]}, "issuers[1].algorithms: must be drawn from", id="none"),
        pytest.param({**GITHUB, "algorithms": []}, "issuers[1].algorithms: must be a non-empty list", id="no-algs"),
        pytest.param({**GITHUB, "algorithms": "RS256"}, "issuers[1].algorithms: must be a list", id="algs-string"),
        pytest.param({**GITHUB, "owner_prefix": "git hub:"}, "issuers[1].owner_prefix: must be", id="bad-prefix"),
        pytest.param({**GITHUB, "operator_role": ""}, "issuers[1].operator_role: must be a non-empty", id="empty-role"),
        pytest.param({**GITHUB, "audiences": ["x"]}, "issuers[1]: unknown field(s) audiences", id="typo"),
    ],
)
def test_bad_issuers_name_the_field(issuer: dict[str, object], message: str) -> None:
    second = {**GITHUB, "issuer": "https://login.example.org/v2.0"}

    with pytest.raises(ValueError) as caught:
        parse({"issuers": [second, issuer]})

    assert str(caught.value).startswith(message)


def test_same_issuer_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"issuers\[1\]\.issuer: the same issuer is configured twice"):
        parse({"issuers": [GITHUB, {**GITHUB, "audience": "other"}]})
