"""Twin names and every Azure name derived from them, exactly as ``provision-twin-lite.sh`` makes them.

The script is the contract: ``rg-twin-N``, ``sttwin`` + N + hash6, ``twin-N-hash6``, with hash6 the
first six hex characters of sha1(N). The control plane must land on the very same names so that a
twin made by hand and a twin made here are the same twin (re-running converges, never duplicates).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from controlplane.domain.errors import InvalidInput

# A storage account name is 3-24 lowercase letters and digits. "sttwin" (6) + N + hash6 (6)
# leaves 12 characters for N, and N must itself be only lowercase letters and digits.
MAX_TWIN_NAME_LENGTH = 12
_TWIN_NAME_CHARS = re.compile(r"[a-z0-9]+")  # ASCII only: no \w, no \d (both match unicode)
_CLOUD_ID = re.compile(r"twin-([a-z0-9]{1,12})-([0-9a-f]{6})")

AZURE_WEBSITES_DOMAIN = "azurewebsites.net"


@dataclass(frozen=True)
class TwinNames:
    """Every name the provisioning of one twin uses."""

    name: str
    hash6: str
    resource_group: str
    storage_account: str
    app_name: str
    plan_name: str

    @property
    def cloud_id(self) -> str:
        """The brainstem's durable name: its Function App's name."""
        return self.app_name

    @property
    def default_host_name(self) -> str:
        return f"{self.app_name}.{AZURE_WEBSITES_DOMAIN}"

    @property
    def url(self) -> str:
        return f"https://{self.default_host_name}"


def validate_twin_name(name: object) -> str:
    """Return ``name`` if every name derived from it is valid in Azure; raise InvalidInput naming the rule."""
    allowed = f"1-{MAX_TWIN_NAME_LENGTH} lowercase letters a-z and digits 0-9"
    if not isinstance(name, str):
        raise InvalidInput("name", f"twin name must be a string of {allowed}")
    if not name:
        raise InvalidInput("name", f"twin name is empty; use {allowed}")
    if len(name) > MAX_TWIN_NAME_LENGTH:
        raise InvalidInput(
            "name",
            f"twin name is {len(name)} characters; the maximum is {MAX_TWIN_NAME_LENGTH} because the storage "
            f"account name sttwin<name><hash6> may hold at most 24 ({allowed})",
        )
    if not (name.isascii() and _TWIN_NAME_CHARS.fullmatch(name)):
        bad = sorted({c for c in name if not (c.isascii() and (c.islower() or c.isdigit()))})
        shown = ", ".join(repr(c) for c in bad[:5])
        raise InvalidInput(
            "name",
            f"twin name has characters Azure storage account names do not allow ({shown}); use {allowed}",
        )
    return name


def hash6(name: str) -> str:
    # Same as the script's `printf '%s' "$NAME" | shasum | cut -c1-6`.
    return hashlib.sha1(name.encode("ascii")).hexdigest()[:6]  # noqa: S324 - a name, not security


def twin_names(name: str) -> TwinNames:
    """Derive every Azure name for twin ``name`` (validated first)."""
    validate_twin_name(name)
    h = hash6(name)
    return TwinNames(
        name=name,
        hash6=h,
        resource_group=f"rg-twin-{name}",
        storage_account=f"sttwin{name}{h}",
        app_name=f"twin-{name}-{h}",
        plan_name=f"plan-twin-{name}-{h}",
    )


def is_cloud_id(value: str) -> bool:
    """True when ``value`` is a cloud_id this control plane could have made (hash included)."""
    match = _CLOUD_ID.fullmatch(value)
    return match is not None and hash6(match.group(1)) == match.group(2)


def names_from_cloud_id(cloud_id: str) -> TwinNames:
    """The twin names behind a cloud_id; raise InvalidInput when it is not one of ours."""
    match = _CLOUD_ID.fullmatch(cloud_id)
    if not match or hash6(match.group(1)) != match.group(2):
        raise InvalidInput("cloud_id", "a cloud_id looks like twin-<name>-<hash6>, e.g. twin-kody-e89834")
    return twin_names(match.group(1))
