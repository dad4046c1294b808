"""The heartbeat: each answer moves last_seen; a twin that stops answering goes stale, and comes back."""

from __future__ import annotations

from collections.abc import Callable

from controlplane.domain.naming import twin_names
from controlplane.registry import default_registry
from sandbox.rig import ControlPlaneRig
from tests.api.conftest import Api
from tests.reconcile.conftest import heartbeat, provision

LONG_AGO = "2020-01-01T00:00:00.000000Z"


def test_a_twin_that_stops_answering_goes_stale_and_comes_back(rig: ControlPlaneRig, api: Api) -> None:
    kody, molly = provision(api, "kody"), provision(api, "molly")
    registry = default_registry()
    for cloud_id in (kody, molly):  # as if the last answers were long ago
        registry.update(cloud_id, lambda row: row.with_changes(last_seen=LONG_AGO))
    assert rig.brainstems is not None
    rig.brainstems.boot_failures[twin_names("kody").app_name] = 1_000_000  # kody's host answers 503

    swept = heartbeat(rig)

    assert swept == {"probed": 2, "answered": 1, "stale": 1}
    assert registry.get(molly).last_seen > LONG_AGO and registry.get(kody).last_seen == LONG_AGO
    assert api.health()["stale"] == 1 and api.health()["heartbeat"]["swept_at"]
    assert [row["cloud_id"] for row in api.list(stale="true").json["items"]] == [kody]
    # Filters combine: stale twins are active ones, so with another status the page is empty (not a 400:
    # both parameters are valid on their own, and openapi.yaml cannot say they exclude each other).
    assert [row["cloud_id"] for row in api.list(stale="true", status="active").json["items"]] == [kody]
    assert api.list(stale="true", status="errored").json == {"items": [], "next": None}
    assert api.list(stale="maybe").status == 400

    rig.brainstems.boot_failures[twin_names("kody").app_name] = 0  # it answers again
    swept = heartbeat(rig)

    assert swept == {"probed": 2, "answered": 2, "stale": 0}
    assert registry.get(kody).last_seen > LONG_AGO
    assert api.health()["stale"] == 0 and api.list(stale="true").json["items"] == []


def test_a_sweep_pages_through_the_fleet(make_rig: Callable[..., ControlPlaneRig]) -> None:
    rig = make_rig(settings={"CP_HEARTBEAT_PAGE_SIZE": "1", "CP_OWNER_QUOTA": "0"})
    api = Api(rig)
    names = [f"h{i}" for i in range(3)]
    for name in names:
        provision(api, name)

    swept = heartbeat(rig)

    assert swept == {"probed": 3, "answered": 3, "stale": 0}  # one page (one activity) per twin
