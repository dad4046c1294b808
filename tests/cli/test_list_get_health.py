"""list follows continuation tokens; get and health print rows, jobs and counts; auth and URL handling."""

from __future__ import annotations

import json

from tests.cli.harness import Twinctl
from tests.cli.stub_api import CLOUD_ID, JOB_ID, Answer, StubControlPlane, health_counts, job, row

PAGES = [
    Answer(200, {"items": [row("twin-ada-111111"), row("twin-bob-222222")], "next": "page2"}),
    Answer(200, {"items": [row("twin-cy-333333", status="provisioning", url=None)], "next": "page3"}),
    Answer(200, {"items": [row("twin-dee-444444", region="westeurope")], "next": None}),
]


def test_list_follows_next_across_three_pages(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/brainstems", *PAGES)

    result = twinctl("list", "--owner", "github:kody", "--status", "active")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "cloud_id         owner        status        region      url",
        "twin-ada-111111  github:kody  active        eastus2     https://twin-ada-111111.azurewebsites.net",
        "twin-bob-222222  github:kody  active        eastus2     https://twin-bob-222222.azurewebsites.net",
        "twin-cy-333333   github:kody  provisioning  eastus2     -",
        "twin-dee-444444  github:kody  active        westeurope  https://twin-dee-444444.azurewebsites.net",
    ]
    queries = [seen.query for seen in stub.seen("GET", "/api/cp/brainstems")]
    assert queries == [
        {"owner": "github:kody", "status": "active"},
        {"owner": "github:kody", "status": "active", "next": "page2"},
        {"owner": "github:kody", "status": "active", "next": "page3"},
    ]


def test_list_json_is_one_array_of_every_page(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/brainstems", *PAGES)

    result = twinctl("list", "--json")

    assert [item["cloud_id"] for item in json.loads(result.stdout)] == [
        "twin-ada-111111",
        "twin-bob-222222",
        "twin-cy-333333",
        "twin-dee-444444",
    ]


def test_list_jsonl_is_one_object_per_line(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/brainstems", *PAGES)

    result = twinctl("list", "--jsonl")

    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert json.loads(lines[2])["status"] == "provisioning"


def test_list_limit_stops_paging_once_enough_rows_arrived(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/brainstems", *PAGES)

    result = twinctl("list", "--limit", "3", "--jsonl")

    assert len(result.stdout.splitlines()) == 3
    # Page size asks only for what is still missing; the third page is never fetched.
    assert [seen.query for seen in stub.seen("GET", "/api/cp/brainstems")] == [
        {"limit": "3"},
        {"limit": "1", "next": "page2"},
    ]


def test_list_stops_on_a_repeated_continuation_token(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/brainstems", Answer(200, {"items": [row()], "next": "same"}))

    result = twinctl("list", "--jsonl")

    assert result.exit_code == 1
    assert result.stderr == "error: the listing returned the same continuation token twice\n"


def test_list_of_nothing_prints_the_header(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/brainstems", Answer(200, {"items": [], "next": None}))

    assert twinctl("list").stdout == "cloud_id  owner  status  region  url\n"


def test_get_a_brainstem(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", f"/api/cp/brainstems/{CLOUD_ID}", Answer(200, row()))

    plain = twinctl("get", CLOUD_ID)
    as_json = twinctl("get", CLOUD_ID, "--json")

    # keys are padded to the longest (target_app_settings)
    assert "cloud_id             twin-kody-e89834" in plain.stdout.splitlines()
    assert "error                -" in plain.stdout.splitlines()  # a null field prints as "-"
    assert json.loads(as_json.stdout) == row()


def test_get_a_job(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", f"/api/cp/brainstems/{JOB_ID}", job("Running", step="create_storage_account"))

    result = twinctl("get", JOB_ID)

    assert "runtime_status   Running" in result.stdout.splitlines()
    assert 'custom_status    {"step":"create_storage_account"}' in result.stdout.splitlines()


def test_health(twinctl: Twinctl, stub: StubControlPlane) -> None:
    counts = health_counts(total=3, provisioning=1, active=2, by_runtime_target={"azure-consumption-py311": 3})
    stub.script("GET", "/api/cp/health", Answer(200, counts))

    assert json.loads(twinctl("health", "--json").stdout) == counts
    # keys are padded to the longest (by_runtime_target), as the real answer has it
    assert "active             2" in twinctl("health").stdout.splitlines()


def test_key_from_the_environment_becomes_the_api_key_header(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/health", Answer(200, health_counts()))

    twinctl("health", url="", env={"TWINCTL_URL": stub.url, "TWINCTL_KEY": "k3y"})

    [seen] = stub.requests
    assert seen.headers["x-api-key"] == "k3y"
    assert "Authorization" not in seen.headers
    assert seen.headers["User-Agent"].startswith("twinctl/")


def test_token_from_the_environment_becomes_a_bearer_header(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/health", Answer(200, health_counts()))

    twinctl("health", url="", env={"TWINCTL_URL": stub.url, "TWINCTL_TOKEN": "t0ken"})

    [seen] = stub.requests
    assert seen.headers["Authorization"] == "Bearer t0ken"
    assert "x-api-key" not in seen.headers


def test_no_auth_headers_unless_given(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/health", Answer(200, health_counts()))

    twinctl("health")

    assert "x-api-key" not in stub.requests[0].headers
    assert "Authorization" not in stub.requests[0].headers


def test_url_may_include_the_api_prefix(twinctl: Twinctl, stub: StubControlPlane) -> None:
    stub.script("GET", "/api/cp/health", Answer(200, health_counts()))

    result = twinctl("health", "--json", url=f"{stub.url}/api/cp/")

    assert result.exit_code == 0
    assert stub.requests[0].path == "/api/cp/health"


def test_key_and_token_together_is_a_usage_error(twinctl: Twinctl, stub: StubControlPlane) -> None:
    result = twinctl("health", url="", env={"TWINCTL_URL": stub.url, "TWINCTL_KEY": "k", "TWINCTL_TOKEN": "t"})
    assert result.exit_code == 2
    assert stub.requests == []
