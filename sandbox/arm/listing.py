"""Subscription-wide lists: resource groups (with ARM's tag filter) and Function Apps, paged by nextLink.

- ``GET /subscriptions/{id}/resourcegroups`` is ResourceGroups_List (Azure/azure-rest-api-specs,
  resources/stable/2025-04-01, as generated into azure-mgmt-resource 26): ``$filter`` "You can filter
  by tag names and values. For example, to filter for a tag name and value, use $filter=tagName eq
  'tag1' and tagValue eq 'Value1'"; ``$top`` "The number of results to return"; the answer is a
  ResourceGroupListResult ``{"value": [...], "nextLink": ...}``. The Azure CLI builds the same filter
  for ``az group list --tag k=v`` (azure-cli, resource/custom.py ``list_resource_groups``).
- ``GET /subscriptions/{id}/providers/Microsoft.Web/sites`` is WebApps_List (AppService/stable/
  2025-05-01): every app in the subscription, a WebAppCollection ``{"value": [...], "nextLink": ...}``.

ARM decides the page size, and a client must follow ``nextLink`` until it is absent (ARM RPC,
"Collection" responses). The stand-in pages small (``PAGE_SIZE``), so a product that read only the
first page would miss twins here as it would in Azure. A filter the API does not document is refused
rather than ignored, so a product bug cannot widen a scan silently.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from .messages import ArmError, Call, Reply
from .resource_groups import TYPE as GROUP_TYPE
from .store import ResourceStore

SITE_TYPE = "Microsoft.Web/sites"
PAGE_SIZE = 5

# The two documented forms: a tag name alone, or a tag name and its value.
_TAG_FILTER = re.compile(r"\s*tagName\s+eq\s+'([^']*)'(?:\s+and\s+tagValue\s+eq\s+'([^']*)')?\s*")


def list_groups(store: ResourceStore, call: Call) -> Reply:
    groups = [doc for doc in store.find(GROUP_TYPE) if _in_subscription(doc, call.subscription)]
    wanted = call.query.get("$filter")
    if wanted is not None:
        parsed = _TAG_FILTER.fullmatch(wanted)
        if parsed is None:
            raise ArmError(400, "InvalidFilterInQueryString", f"The $filter '{wanted}' is not supported.")
        name, value = parsed.group(1), parsed.group(2)
        groups = [doc for doc in groups if _has_tag(doc, name, value)]
    top = call.query.get("$top")
    if top is not None:
        if not top.isdigit() or int(top) < 1:
            raise ArmError(400, "InvalidTopInQueryString", f"The $top '{top}' is not a positive integer.")
        groups = groups[: int(top)]
    return _page(store, call, groups)


def list_sites(store: ResourceStore, call: Call) -> Reply:
    sites = [_site_summary(doc) for doc in store.find(SITE_TYPE) if _in_subscription(doc, call.subscription)]
    return _page(store, call, sites)


def _page(store: ResourceStore, call: Call, documents: list[dict[str, Any]]) -> Reply:
    ordered = sorted(documents, key=lambda doc: doc["id"].lower())
    skip = call.query.get("$skiptoken", "0")
    start = int(skip) if skip.isdigit() else 0
    body: dict[str, Any] = {"value": ordered[start : start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(ordered):
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in call.query.items() if k != "$skiptoken")
        body["nextLink"] = f"{store.base_url}{call.path}?{query}&%24skiptoken={start + PAGE_SIZE}"
    return Reply(200, body)


def _in_subscription(document: dict[str, Any], subscription: str) -> bool:
    return document["id"].lower().startswith(f"/subscriptions/{subscription.lower()}/")


def _has_tag(document: dict[str, Any], name: str, value: str | None) -> bool:
    # Tag names are case-insensitive in ARM, values case-sensitive (Learn: "Use tags to organize your
    # Azure resources", Limitations: "Tag names are case-insensitive ... Tag values are case-sensitive").
    for tag, tag_value in (document.get("tags") or {}).items():
        if tag.lower() == name.lower() and (value is None or tag_value == value):
            return True
    return False


def _site_summary(document: dict[str, Any]) -> dict[str, Any]:
    """A site as the collection shows it: the stored document without settings (never listed)."""
    properties = dict(document.get("properties") or {})
    config = dict(properties.get("siteConfig") or {})
    config["appSettings"] = None
    properties["siteConfig"] = config
    return {**document, "properties": properties}
