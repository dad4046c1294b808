"""A platform (App Service auth) session's changes from another site are refused; nothing else changes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from controlplane.auth import Forbidden, Principal
from controlplane.auth.cross_site import refuse_cross_site_change
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api

SESSION = Principal(kind="operator", owner=None, via="platform", subject_hint="platform auth_typ=aad")
KEY = Principal(kind="operator", owner=None, via="api-key", subject_hint="api-key")


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "post"])
def test_a_sessions_change_from_another_site_is_forbidden(method: str, site: str) -> None:
    with pytest.raises(Forbidden):
        refuse_cross_site_change(SESSION, method, {"Sec-Fetch-Site": site})


@pytest.mark.parametrize(
    ("principal", "method", "headers"),
    [
        (SESSION, "POST", {"sec-fetch-site": "same-origin"}),  # the dashboard's own controls
        (SESSION, "POST", {"Sec-Fetch-Site": "none"}),  # typed, bookmarked
        (SESSION, "POST", {}),  # not a browser
        (SESSION, "GET", {"Sec-Fetch-Site": "cross-site"}),  # another site cannot read the answer
        (KEY, "POST", {"Sec-Fetch-Site": "cross-site"}),  # a browser never attaches a key by itself
    ],
    ids=["same-origin", "none", "no-header", "read", "api-key"],
)
def test_everything_else_passes(principal: Principal, method: str, headers: dict[str, str]) -> None:
    refuse_cross_site_change(principal, method, headers)


def test_the_doorman_refuses_another_sites_form_post_with_a_platform_session(
    make_rig: Callable[..., ControlPlaneRig],
) -> None:
    rig = make_rig(settings={"CP_AUTH": json.dumps({"platform_auth": True, "platform_owner_prefix": "entra:"})})
    document = {"auth_typ": "aad", "claims": [{"typ": "oid", "val": "0b8f6c2a-1111-4c4c-9a9a-123456789abc"}]}
    session = Api(rig, {"X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(document).encode()).decode()})
    body = {"name": "kody"}
    forged = session.request("POST", "/api/cp/brainstems", json_body=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status == 403 and forged.json["type"].endswith("/forbidden")
    assert session.list().json["items"] == []  # nothing was created, and the session still reads
    mine = session.request("POST", "/api/cp/brainstems", json_body=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert mine.status == 202
