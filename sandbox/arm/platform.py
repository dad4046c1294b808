"""What the rest of the sandbox's Azure (scm sites, brainstem hosts) asks of the ARM stand-in's state.

In Azure, Kudu and the Functions front end read the same platform state ARM writes: a site's
identity, plan and app settings, its role grants, the package One Deploy put in place. The sandbox's
stand-ins for those hosts read it here, under the store's lock, instead of reaching into the store.
"""

from __future__ import annotations

import copy
from typing import Any

from . import authorization, flex
from .store import ResourceStore

SITE_TYPE = "Microsoft.Web/sites"


class PlatformView:
    def __init__(self, store: ResourceStore) -> None:
        self._store = store

    def hold_name(self, kind: str, name: str) -> None:
        """Make ``name`` a site (kind "site") or storage account ("storage") another Azure customer holds."""
        held = {"site": self._store.held_site_names, "storage": self._store.held_storage_names}[kind]
        with self._store.lock:
            held.add(name.lower())

    def site(self, app_name: str) -> dict[str, Any] | None:
        """The site called ``app_name`` in any group (names are global), or None."""
        with self._store.lock:
            for site in self._store.find(SITE_TYPE):
                if site["name"].lower() == app_name.lower():
                    return copy.deepcopy(site)
        return None

    def app_settings(self, site: dict[str, Any]) -> dict[str, str]:
        with self._store.lock:
            document = self._store.get(site["id"] + "/config/appsettings") or {}
            return {k: str(v) for k, v in (document.get("properties") or {}).items()}

    def is_flex(self, site: dict[str, Any]) -> bool:
        with self._store.lock:
            return flex.is_flex(self._store.get(site["properties"].get("serverFarmId") or ""))

    def grant_effective(self, *, principal: str, scope: str, role_ids: set[str]) -> bool:
        with self._store.lock:
            return authorization.grant_effective(self._store, principal=principal, scope=scope, role_ids=role_ids)

    def storage_account_id(self, account_name: str) -> str | None:
        with self._store.lock:
            for account in self._store.find("Microsoft.Storage/storageAccounts"):
                if account["name"].lower() == account_name.lower():
                    return str(account["id"])
        return None

    def record_deployment(self, site: dict[str, Any], deployment: dict[str, Any]) -> None:
        """One Deploy finished: the site now runs this package (and may sync its triggers)."""
        with self._store.lock:
            if self._store.get(site["id"]) is not None:
                self._store.put(site["id"] + flex.DEPLOYMENT_SUFFIX, {"id": site["id"] + flex.DEPLOYMENT_SUFFIX,
                                                                       "type": "sandbox/deployment", **deployment})  # fmt: skip

    def active_deployment(self, site: dict[str, Any]) -> dict[str, Any] | None:
        with self._store.lock:
            document = self._store.get(site["id"] + flex.DEPLOYMENT_SUFFIX)
            return copy.deepcopy(document) if document is not None else None

    def now(self) -> float:
        return self._store.clock()
