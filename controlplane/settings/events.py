"""Parsing the lifecycle-event settings: Event Grid topic, callback allow-list and signing keys.

Kept beside the model so it stays readable; every function raises ValueError with a message that
names what to fix, never the value (a signing key is a secret).
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from controlplane.domain.addresses import is_loopback_url
from controlplane.domain.callbacks import LOOPBACK_NAMES, is_ip_literal

_HOST_ENTRY = re.compile(r"(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
SIGNING_KEY_PREFIX = "whsec_"  # the Standard Webhooks secret format: whsec_ + base64 of the key bytes
MIN_SIGNING_KEY_BYTES = 24  # Standard Webhooks: secrets between 24 and 64 bytes


def parse_allowed_hosts(value: object) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if items is None:
        return ()
    if not isinstance(items, (list, tuple)):
        raise ValueError("must be a comma-separated list of host names (hooks.example.com, *.example.com)")
    hosts = tuple(sorted({str(item).strip().lower().rstrip(".") for item in items if str(item).strip()}))
    for host in hosts:
        if host in LOOPBACK_NAMES:
            continue  # refused at POST unless CP_CALLBACK_SANDBOX_LOOPBACK (loopback-only) is on
        if not _HOST_ENTRY.fullmatch(host) or is_ip_literal(host.removeprefix("*.")):
            raise ValueError(
                "must list host names, exact (hooks.example.com) or one wildcard label (*.example.com); "
                "never * alone or an IP address"
            )
    return hosts


def parse_signing_keys(value: object) -> tuple[str, ...]:
    """``whsec_<base64>`` keys, space- or comma-separated: the first signs, all are sent (rotation)."""
    if value is None or value == "" or value == ():
        return ()
    if isinstance(value, (list, tuple)):
        value = " ".join(str(key) for key in value)
    if not isinstance(value, str):
        raise ValueError("must be one or more whsec_<base64> keys separated by spaces")
    keys = tuple(key for key in re.split(r"[\s,]+", value.strip()) if key)
    for key in keys:
        if not key.startswith(SIGNING_KEY_PREFIX):
            raise ValueError("must be whsec_ followed by the base64 of 24-64 random bytes (see README, Events)")
        try:
            raw = base64.b64decode(key.removeprefix(SIGNING_KEY_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be whsec_ followed by standard base64 (see README, Events)") from None
        if not MIN_SIGNING_KEY_BYTES <= len(raw) <= 64:
            raise ValueError("must decode to 24-64 bytes (python -c 'import secrets,base64; ...' in README, Events)")
    return keys


def check_eventgrid_endpoint(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            "must be the topic's https:// endpoint (https://<topic>.<region>-1.eventgrid.azure.net/api/events)"
        )
    return value


def check_sandbox_loopback(enabled: bool, allowed_hosts: tuple[str, ...]) -> str | None:
    """Why CP_CALLBACK_SANDBOX_LOOPBACK=true is refused with these hosts (None: it is fine)."""
    if enabled and (not allowed_hosts or any(host not in LOOPBACK_NAMES for host in allowed_hosts)):
        return (
            "CP_CALLBACK_SANDBOX_LOOPBACK=true is only for the offline sandbox: CP_CALLBACK_ALLOWED_HOSTS must then "
            "list only loopback hosts (127.0.0.1, localhost, ::1); leave it unset on Azure"
        )
    return None


def check_eventgrid_credential(credential: str, endpoint: str | None) -> str | None:
    if credential == "sandbox" and not (endpoint and is_loopback_url(endpoint)):
        return "CP_EVENTGRID_CREDENTIAL=sandbox is only for a loopback Event Grid stand-in; use 'default' for Azure"
    return None
