"""Property-based: whatever a caller sends to the create body, the list query or a path id, the
answer is a success or a 4xx application/problem+json naming what to fix — never a 5xx."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Api, api  # noqa: F401 - the fixture, shared with the API tests

FIELDS = ["name", "owner", "region", "runtime_target", "deploy_ref"]
# Text that stresses every layer: unicode digits, quotes, OData and URL syntax. A lone surrogate
# cannot travel in an HTTP request line or header (the host decodes UTF-8 bytes), so it is tried
# where a request can carry it: escaped inside a JSON body and a continuation token.
http_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
nasty_text = st.one_of(
    http_text,
    st.sampled_from(["", " ", "²", "٣", "'", "''", "' or 1 eq 1 or '", "twin-", "twin.", "%00", "\x00",
                     "../../", "eastus2", "kody", "github:alice", "azure-flex-py312", "v1.2.3", "a" * 300]),
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text | st.just("\ud800"),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(nasty_text | st.just("\ud800"), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS + ["extra"]), json_values, max_size=6),
    json_values,
)
SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
)


def assert_contract(answer: Any, fields: set[str] | None = None) -> None:
    assert answer.status < 500, answer.body
    if answer.status >= 400:
        assert answer.content_type == "application/problem+json"
        problem = answer.json
        if answer.status == 400 and fields is not None:
            assert problem.get("field") in fields, problem


@SETTINGS
@given(body=bodies)
def test_the_create_body(api: Api, body: Any) -> None:
    answer = api.request(
        "POST", "/api/cp/brainstems", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    assert_contract(answer, {*FIELDS, "body"} | {k for k in (body if isinstance(body, dict) else {})})


@SETTINGS
@given(depth=st.integers(min_value=1, max_value=7000))
def test_deeply_nested_json_under_the_size_cap(api: Api, depth: int) -> None:
    body = ("[" * depth + "]" * depth).encode()[: 16 * 1024]
    assert_contract(api.request("POST", "/api/cp/brainstems", body=body, headers={"Content-Type": "application/json"}))


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(["owner", "status", "runtime_target", "deploy_ref", "limit", "next", "bogus"]),
        nasty_text,
        max_size=4,
    )
)
def test_the_list_query(api: Api, params: dict[str, str]) -> None:
    assert_contract(api.list(**params), set(params))


@SETTINGS
@given(token=st.one_of(nasty_text, st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode())))
def test_continuation_tokens(api: Api, token: str) -> None:
    assert_contract(api.list(next=token), {"next"})


@SETTINGS
@given(identifier=nasty_text.filter(lambda s: "/" not in s and s not in ("", ".", "..")))
def test_path_ids(api: Api, identifier: str) -> None:
    for method, path in (("GET", f"/api/cp/brainstems/{identifier}"), ("DELETE", f"/api/cp/brainstems/{identifier}"),
                         ("POST", f"/api/cp/brainstems/{identifier}/wake")):  # fmt: skip
        answer = api.request(method, path)
        assert answer.status < 500 and (answer.status < 400 or answer.content_type == "application/problem+json")


@pytest.mark.parametrize(
    ("method", "params", "body", "field"),
    [
        ("GET", {"limit": "²"}, None, "limit"),  # a Unicode digit: isdigit() says yes, int() says no
        ("GET", {"next": base64.urlsafe_b64encode(b'{"scope": "*", "after": "\\ud800"}').decode()}, None, "next"),
        ("POST", {}, b"[" * 8000 + b"]" * 8000, "body"),  # nested past the parser's stack, under 16 KiB
        ("POST", {}, b'{"name": "kody", "owner": "github:a", "region": ""}', "region"),  # "" is not the default
    ],
    ids=["unicode-digit-limit", "lone-surrogate-token", "deep-json", "empty-region"],
)
def test_the_inputs_that_reached_a_500(
    api: Api, method: str, params: dict[str, str], body: bytes | None, field: str
) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    answer = api.request(method, "/api/cp/brainstems", params=params, body=body, headers=headers)
    assert answer.status == 400 and answer.json["field"] == field, answer.body


@SETTINGS
@given(
    header=st.sampled_from(["Authorization", "x-api-key", "X-MS-CLIENT-PRINCIPAL"]),
    value=st.one_of(
        nasty_text,
        st.sampled_from(["Bearer ", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "ApiKey ²", "Basic Og=="]),
    ),
)
def test_credentials(api: Api, header: str, value: str) -> None:
    answer = api.as_caller({header: value}).request("GET", "/api/cp/brainstems")
    assert answer.status in (401, 403) and answer.content_type == "application/problem+json"
    if len(value.strip()) >= 8:  # long enough not to occur in our own fixed wording by chance
        assert value not in answer.body.decode(errors="replace")  # a credential is never echoed


HUGE_INTEGER = "9" * 5000  # past Python's int-string limit (4,300 digits): json.loads raises ValueError
BODY_ROUTES = [
    ("POST", "/api/cp/brainstems"),
    ("PATCH", "/api/cp/brainstems/twin-kody-e89834"),
    ("POST", "/api/cp/rollouts"),
    ("POST", "/api/cp/adoptions"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
@pytest.mark.parametrize(
    "body",
    [HUGE_INTEGER, '{"name": ' + HUGE_INTEGER + "}", '{"a": [1, -' + HUGE_INTEGER + "]}"],
    ids=["bare", "in-a-field", "nested-negative"],
)
def test_an_integer_of_5000_digits_is_a_400_on_every_body_route(api: Api, method: str, path: str, body: str) -> None:
    if method == "PATCH":  # the twin must exist for its PATCH to read a body
        assert api.post({"name": "kody", "owner": "github:you"}).status == 202
    answer = api.request(method, path, body=body.encode(), headers={"Content-Type": "application/json"})
    assert (answer.status, answer.json["field"]) == (400, "body"), answer.body


@pytest.mark.parametrize("value", ["true", "yes", 1, 0, None, [], {}], ids=repr)
def test_a_wrongly_typed_refresh_settings_is_a_400_naming_it(api: Api, value: Any) -> None:
    assert api.post({"name": "kody", "owner": "github:you"}).status == 202
    answer = api.request("PATCH", "/api/cp/brainstems/twin-kody-e89834", json_body={"refresh_settings": value})
    assert (answer.status, answer.json["field"]) == (400, "refresh_settings"), answer.body


def test_huge_integers_in_tokens_are_refused_not_a_500(api: Api) -> None:
    token = base64.urlsafe_b64encode(('{"scope": "*", "after": ' + HUGE_INTEGER + "}").encode()).decode()
    answer = api.request("GET", "/api/cp/brainstems", params={"next": token})
    assert (answer.status, answer.json["field"]) == (400, "next")
    segment = base64.urlsafe_b64encode(('{"exp": ' + HUGE_INTEGER + "}").encode()).decode().rstrip("=")
    bearer = api.as_caller({"Authorization": f"Bearer eyJhbGciOiJSUzI1NiJ9.{segment}.c2ln"})
    assert bearer.request("GET", "/api/cp/brainstems").status == 401
    principal = base64.b64encode(('{"claims": [], "n": ' + HUGE_INTEGER + "}").encode()).decode()
    assert api.as_caller({"X-MS-CLIENT-PRINCIPAL": principal}).request("GET", "/api/cp/brainstems").status in (401, 403)
