"""A create's Table requests stay the same however much of the pool is full (Azurite, counted by key).

Placement tries places in a fixed order (the default region first); once a region fills, every
create used to take and give back its subscription's set for each full place before finding room,
so a create's cost grew with the pool's full places (at 10,010 twins over 11 subscriptions, an
estimated ~80 of its 119 requests). The registry now remembers the slots it lately found full and placement tries
them last — never skips them: a place freed meanwhile is still found.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from azure.core.pipeline import PipelineResponse
from azure.data.tables import TableServiceClient

from controlplane.domain.naming import twin_names
from controlplane.domain.placement import region_slot, subscription_slot
from controlplane.registry import TwinRegistry
from controlplane.service.creation import _place
from controlplane.service.errors import PoolExhausted
from controlplane.settings import Settings, load_settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SUBS = ("aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002")
PER_REGION = 2


class Requests:
    """Every Table request's decoded URL (an azure-core response hook), taken in batches."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, response: PipelineResponse[Any, Any]) -> None:
        self.urls.append(f"{response.http_request.method} {unquote(response.http_request.url)}")

    def take(self) -> list[str]:
        urls, self.urls = self.urls, []
        return urls


def registry_on(storage_connection: str, table_name: str, hook: Requests | None = None) -> TwinRegistry:
    options = {} if hook is None else {"raw_response_hook": hook}
    service = TableServiceClient.from_connection_string(storage_connection, **options)
    return TwinRegistry.from_service(service, table_name)


def pool_settings() -> Settings:
    pool = [
        {"subscription_id": s, "regions": ["eastus2", "westeurope"], "max_twins_per_region": PER_REGION} for s in SUBS
    ]
    return load_settings({
        "CP_SUBSCRIPTION_ID": SUBS[0], "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "CP_SUBSCRIPTION_POOL": json.dumps(pool), "CP_DEFAULT_REGION": "eastus2",
    })  # fmt: skip


def place(registry: TwinRegistry, settings: Settings, name: str) -> str:
    names = twin_names(name)
    fields = {
        "owner": "github:alice", "runtime_target": settings.default_runtime_target,
        "deploy_ref": settings.default_deploy_ref, "job_id": uuid.uuid4().hex, "callback_url": None,
    }  # fmt: skip
    row = _place(names.cloud_id, names.name, fields, None, {}, registry, settings, existing=None)
    return f"{row.subscription_id}:{row.region}"


def full_place_requests(urls: list[str]) -> list[str]:
    return [u for u in urls if any(f"~slot|{region_slot(s, 'eastus2')}'" in u for s in SUBS)]


def test_once_a_region_is_full_creates_no_longer_touch_it(storage_connection: str, table_name: str) -> None:
    hook, settings = Requests(), pool_settings()
    registry = registry_on(storage_connection, table_name, hook)
    registry.create_table()
    first = [place(registry, settings, f"pr{i}") for i in range(2 * PER_REGION)]  # eastus2 in both, full
    assert sorted(first) == sorted(f"{s}:eastus2" for s in SUBS for _ in range(PER_REGION))
    hook.take()

    assert place(registry, settings, "spill0").endswith(":westeurope")  # finds both eastus2 places full
    assert full_place_requests(hook.take())  # it had to ask them
    for i in range(1, 2 * PER_REGION):
        assert place(registry, settings, f"spill{i}").endswith(":westeurope")
        spilled = hook.take()
        assert full_place_requests(spilled) == []
        # As many requests as a create into an empty pool's first place (two-choice reads, two takes,
        # the row, its owner copy, one count shard): nothing for the full places.
        assert len(spilled) <= 10, spilled


def test_a_place_freed_by_another_instance_is_still_found(storage_connection: str, table_name: str) -> None:
    settings = pool_settings()
    this, other = registry_on(storage_connection, table_name), registry_on(storage_connection, table_name)
    this.create_table()
    for i in range(4 * PER_REGION):  # the whole pool
        place(this, settings, f"fr{i}")
    with pytest.raises(PoolExhausted):
        place(this, settings, "late")  # every place is now lately full, as this instance saw it

    freed = next(r for r in this.list(limit=100).items if r.region == "westeurope")
    other.capacity.give_back(region_slot(freed.subscription_id, "westeurope"), freed.cloud_id)
    other.capacity.give_back(subscription_slot(freed.subscription_id), freed.cloud_id)
    assert this.capacity.lately_full(region_slot(freed.subscription_id, "westeurope"))  # this one has not seen it
    assert place(this, settings, "late") == f"{freed.subscription_id}:westeurope"
