"""The content-share settings of a Consumption site (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING and
WEBSITE_CONTENTSHARE), validated as App Service validates them when settings are written.

Learn (App settings reference, WEBSITE_SKIP_CONTENTSHARE_VALIDATION): "The
WEBSITE_CONTENTAZUREFILECONNECTIONSTRING and WEBSITE_CONTENTSHARE settings have extra validation checks
to ensure that the app can be properly started. Creation of application settings will fail if the
function app can't properly call out to the downstream Storage Account"; ``1`` skips the check.
WEBSITE_CONTENTSHARE "must follow this guidance for share names" (Learn: App settings reference,
WEBSITE_CONTENTSHARE; REST "Naming and referencing shares": 3-63 lowercase letters, digits and single
hyphens, beginning and ending with a letter or digit). The answers are App Service's, as users quote them:

* a connection string that names no account and key: 400 "The storage URI is invalid." (pulumi/pulumi-azure-native#3781);
* one that does not open the account (no such account, or not its key): 400 "The parameter
  WEBSITE_CONTENTAZUREFILECONNECTIONSTRING has an invalid value." (hashicorp/terraform-provider-azurerm#30258);
* a share name outside the rules: 400 "There was a conflict. The remote server returned an error: (400)
  Bad Request." (Azure/azure-cli#14518, a share named with capitals).

The stand-in has no Azure Files data plane; "can call out" means the account exists here and the key is
one of its two. Neither setting is required (Learn, Storage considerations, 2026-08: only Consumption on
Windows and Elastic Premium keep their content on Azure Files; a Linux Consumption app runs from its
package URL), so a site with neither passes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .messages import ArmError
from .store import ResourceStore

CONNECTION = "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"
SHARE = "WEBSITE_CONTENTSHARE"
SKIP = "WEBSITE_SKIP_CONTENTSHARE_VALIDATION"
_SHARE_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
_ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"


def check(store: ResourceStore, settings: Mapping[str, str | None]) -> None:
    if str(settings.get(SKIP) or "") == "1":
        return
    share = settings.get(SHARE)
    if share is not None and not _SHARE_NAME.match(share):
        raise _bad_request("There was a conflict. The remote server returned an error: (400) Bad Request.")
    connection = settings.get(CONNECTION)
    if connection is None:
        return
    parts = dict(p.split("=", 1) for p in connection.split(";") if "=" in p)
    account, key = parts.get("AccountName"), parts.get("AccountKey")
    if not account or not key:
        raise _bad_request("The storage URI is invalid.")
    if key not in _keys_of(store, account):
        raise _bad_request(f"The parameter {CONNECTION} has an invalid value.")


def _keys_of(store: ResourceStore, account: str) -> set[str]:
    for document in store.find(_ACCOUNT_TYPE):
        if document["name"].lower() == account.lower():
            keys = store.get(document["id"] + "/keys") or {"keys": []}
            return {k["value"] for k in keys["keys"]}
    return set()


def _bad_request(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message, web_format=True)
