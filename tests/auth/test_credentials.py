"""Which credential a request carries: none, a malformed one, an operator API key, the platform's."""

from __future__ import annotations

import base64
import json

import pytest

from controlplane.auth import AuthConfig, Authenticator, Principal, Unauthorized, hash_api_key
from tests.auth.conftest import OPERATOR_KEYS, FakeClock, JwksServer, Secrets, SigningKey, TokenFactory, bearer

OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
ROLE_TYPE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OBJECT_ID = "5f0c7a1e-0000-4c3b-9d5e-8a7b6c5d4e3f"


def rejected(authenticator: Authenticator, headers: dict[str, str]) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        authenticator.authenticate(headers)
    return caught.value


def test_no_credential_gets_a_bare_challenge(authenticator: Authenticator) -> None:
    error = rejected(authenticator, {"Accept": "application/json"})

    assert error.error is None
    assert error.www_authenticate == 'Bearer realm="twinstack"'
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="twinstack"'}
    assert error.status == 401


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        pytest.param({"Authorization": "Bearer"}, "malformed authorization header", id="bearer-with-nothing"),
        pytest.param({"Authorization": "Bearer   "}, "malformed authorization header", id="bearer-with-spaces"),
        pytest.param({"Authorization": ""}, "unsupported authorization scheme", id="empty"),
        pytest.param({"Authorization": "Basic eHl6OnB3"}, "unsupported authorization scheme", id="basic"),
        pytest.param({"Authorization": "Bearer a.b.c d.e.f"}, "malformed authorization header", id="two-tokens"),
        pytest.param({"Authorization": "ApiKey"}, "malformed authorization header", id="apikey-with-nothing"),
        pytest.param({"x-api-key": "  "}, "malformed api key", id="blank-api-key"),
        pytest.param({"x-api-key": "k" * 2000}, "malformed api key", id="huge-api-key"),
        pytest.param(
            {"Authorization": "Bearer a.b.c", "x-api-key": "k"},
            "send one credential, not both Authorization and x-api-key",
            id="two-credentials",
        ),
        pytest.param(
            {"authorization": "Bearer x", "Authorization": "Bearer y"},
            "conflicting duplicate header",
            id="duplicate-header",
        ),
    ],
)
def test_malformed_requests_are_invalid_request(
    headers: dict[str, str], reason: str, authenticator: Authenticator
) -> None:
    error = rejected(authenticator, headers)

    assert (error.error, error.detail) == ("invalid_request", reason)
    assert error.www_authenticate == f'Bearer realm="twinstack", error="invalid_request", error_description="{reason}"'


@pytest.mark.parametrize("slot", [0, 1], ids=["old-key", "new-key"])
def test_either_operator_key_works_during_rotation(slot: int, authenticator: Authenticator) -> None:
    key = OPERATOR_KEYS[slot]

    by_header = authenticator.authenticate({"X-Api-Key": key})
    by_scheme = authenticator.authenticate({"Authorization": f"ApiKey {key}"})

    expected = Principal(kind="operator", owner=None, via="api-key", subject_hint=f"api-key slot={slot}")
    assert by_header == by_scheme == expected


def test_wrong_api_key_is_rejected(authenticator: Authenticator, secrets: Secrets) -> None:
    wrong = "cp-operator-key-guess-000000"
    secrets.add(wrong)

    error = rejected(authenticator, {"x-api-key": wrong})

    assert (error.error, error.detail) == ("invalid_token", "invalid api key")


def test_retired_key_stops_working(config: AuthConfig, clock: FakeClock) -> None:
    after_rotation = AuthConfig(issuers=config.issuers, operator_key_hashes=(hash_api_key(OPERATOR_KEYS[1]).upper(),))
    authenticator = Authenticator(after_rotation, clock=clock)

    assert authenticator.authenticate({"x-api-key": OPERATOR_KEYS[1]}).kind == "operator"
    assert rejected(authenticator, {"x-api-key": OPERATOR_KEYS[0]}).detail == "invalid api key"


def test_api_key_without_configured_hashes_is_rejected(config: AuthConfig, clock: FakeClock) -> None:
    authenticator = Authenticator(AuthConfig(issuers=config.issuers), clock=clock)

    assert rejected(authenticator, {"x-api-key": OPERATOR_KEYS[0]}).detail == "invalid api key"


def client_principal(claims: list[tuple[str, str]], *, auth_type: str = "aad") -> str:
    document = {
        "auth_typ": auth_type,
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "role_typ": ROLE_TYPE,
        "claims": [{"typ": typ, "val": val} for typ, val in claims],
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.fixture
def platform_authenticator(config: AuthConfig, clock: FakeClock, secrets: Secrets) -> Authenticator:
    secrets.add(OBJECT_ID, "juan@wildhaven.example")
    enabled = AuthConfig(
        issuers=config.issuers,
        operator_key_hashes=config.operator_key_hashes,
        platform_auth=True,
        platform_owner_prefix="entra:",
        platform_operator_role="TwinStack.Operator",
    )
    return Authenticator(enabled, clock=clock)


def test_platform_principal_is_ignored_unless_enabled(authenticator: Authenticator) -> None:
    headers = {"X-MS-CLIENT-PRINCIPAL": client_principal([(OID_CLAIM, OBJECT_ID)])}

    error = rejected(authenticator, headers)  # as if absent: no credential at all

    assert error.error is None


def test_platform_principal_is_ignored_unless_enabled_even_beside_a_credential(authenticator: Authenticator) -> None:
    headers = {
        "X-MS-CLIENT-PRINCIPAL": client_principal([("roles", "TwinStack.Operator"), (OID_CLAIM, OBJECT_ID)]),
        "x-api-key": "wrong",
    }

    assert rejected(authenticator, headers).detail == "invalid api key"


def test_platform_principal_makes_an_owner_from_the_object_id(platform_authenticator: Authenticator) -> None:
    headers = {
        "X-MS-CLIENT-PRINCIPAL": client_principal(
            [("name", "juan@wildhaven.example"), (OID_CLAIM, OBJECT_ID), ("roles", "Reader")]
        )
    }

    assert platform_authenticator.authenticate(headers) == Principal(
        kind="owner", owner=f"entra:{OBJECT_ID}", via="platform", subject_hint="platform auth_typ=aad"
    )


@pytest.mark.parametrize("role_type", ["roles", ROLE_TYPE])
def test_platform_operator_role_makes_an_operator(role_type: str, platform_authenticator: Authenticator) -> None:
    headers = {"x-ms-client-principal": client_principal([("oid", OBJECT_ID), (role_type, "TwinStack.Operator")])}

    principal = platform_authenticator.authenticate(headers)

    assert (principal.kind, principal.owner, principal.via) == ("operator", None, "platform")


def test_platform_principal_wins_over_a_passed_through_bearer_token(
    platform_authenticator: Authenticator, tokens: TokenFactory, rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    headers = {"X-MS-CLIENT-PRINCIPAL": client_principal([("oid", OBJECT_ID)]), **bearer(tokens.sign(rsa_key))}

    assert platform_authenticator.authenticate(headers).via == "platform"
    assert jwks_server.requests == 0


def test_without_the_platform_header_other_credentials_still_work(platform_authenticator: Authenticator) -> None:
    assert platform_authenticator.authenticate({"x-api-key": OPERATOR_KEYS[0]}).via == "api-key"


@pytest.mark.parametrize(
    ("value", "reason", "error"),
    [
        pytest.param("%%%not-base64", "malformed platform principal", "invalid_request", id="not-base64"),
        pytest.param(
            base64.b64encode(b"[1, 2]").decode(), "malformed platform principal", "invalid_request", id="not-an-object"
        ),
        pytest.param(
            base64.b64encode(b'{"claims": 7}').decode(),
            "malformed platform principal",
            "invalid_request",
            id="claims-not-a-list",
        ),
        pytest.param(
            client_principal([("name", "juan@wildhaven.example")]),
            "platform principal has no object id",
            "invalid_token",
            id="no-oid",
        ),
        pytest.param(
            client_principal([("oid", "has spaces in it")]),
            "platform object id is not a valid owner id",
            "invalid_token",
            id="bad-oid",
        ),
    ],
)
def test_bad_platform_principals_are_rejected(
    value: str, reason: str, error: str, platform_authenticator: Authenticator
) -> None:
    caught = rejected(platform_authenticator, {"X-MS-CLIENT-PRINCIPAL": value})

    assert (caught.error, caught.detail) == (error, reason)
