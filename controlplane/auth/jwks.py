"""Identity providers' signing keys (JWKS), fetched on demand and cached per key set.

Keys are cached for ``JWKS_TTL_SECONDS``. A token whose ``kid`` we do not know triggers one refetch
(the provider may have rotated its keys), but such refetches of one key set are at most one per
``JWKS_REFETCH_INTERVAL_SECONDS``: otherwise anyone could make us hammer the provider by sending
tokens with made-up key ids. A failed fetch is not retried within that interval either, and while
the provider is down we keep serving the keys we have.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from controlplane.auth.errors import AuthenticationUnavailable

log = logging.getLogger(__name__)

JWKS_TTL_SECONDS = 600.0
JWKS_REFETCH_INTERVAL_SECONDS = 30.0
JWKS_FETCH_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 512 * 1024

JwksFetch = Callable[[str], Mapping[str, Any]]
Clock = Callable[[], float]


class UnknownSigningKey(Exception):
    """No key with this kid, even after the one refetch we allow."""


def fetch_jwks(uri: str) -> Mapping[str, Any]:
    """The default fetcher: one GET, 5 s timeout, JSON object or an exception."""
    response = requests.get(uri, timeout=JWKS_FETCH_TIMEOUT_SECONDS, headers={"Accept": "application/json"})
    response.raise_for_status()
    if len(response.content) > MAX_JWKS_BYTES:
        raise ValueError("JWKS document too large")
    document = response.json()
    if not isinstance(document, Mapping):
        raise ValueError("JWKS document is not a JSON object")
    return document


@dataclass
class _KeySet:
    keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fetched_at: float | None = None  # last successful fetch
    failed_at: float | None = None  # last failed fetch: no retry within the refetch interval
    refetched_at: float | None = None  # last fetch caused by an unknown kid: the rate-limited kind
    lock: threading.Lock = field(default_factory=threading.Lock)


class JwksCache:
    def __init__(
        self,
        fetch: JwksFetch,
        clock: Clock,
        *,
        ttl_seconds: float = JWKS_TTL_SECONDS,
        refetch_interval_seconds: float = JWKS_REFETCH_INTERVAL_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._ttl = ttl_seconds
        self._interval = refetch_interval_seconds
        self._sets: dict[str, _KeySet] = {}
        self._sets_lock = threading.Lock()

    def signing_keys(self, jwks_uri: str, kid: str) -> list[dict[str, Any]]:
        """The JWKs published under ``kid`` (usually one). Raises UnknownSigningKey.

        Raises AuthenticationUnavailable when no keys were ever fetched and fetching fails.
        """
        key_set = self._key_set(jwks_uri)
        # One lock per key set: concurrent requests with a new kid wait for one fetch, not start several.
        with key_set.lock:
            now = self._clock()
            fetched_now = False
            stale = key_set.fetched_at is None or now - key_set.fetched_at >= self._ttl
            if stale and not self._backing_off(key_set, now):
                fetched_now = self._load(key_set, jwks_uri, now)
            if key_set.fetched_at is None:
                raise AuthenticationUnavailable("identity provider signing keys are unavailable; retry later")
            if kid in key_set.keys:
                return key_set.keys[kid]
            may_refetch = key_set.refetched_at is None or now - key_set.refetched_at >= self._interval
            if may_refetch and not fetched_now and not self._backing_off(key_set, now):
                key_set.refetched_at = now
                if self._load(key_set, jwks_uri, now) and kid in key_set.keys:
                    return key_set.keys[kid]
        raise UnknownSigningKey(kid)

    def _key_set(self, jwks_uri: str) -> _KeySet:
        with self._sets_lock:
            return self._sets.setdefault(jwks_uri, _KeySet())

    def _backing_off(self, key_set: _KeySet, now: float) -> bool:
        return key_set.failed_at is not None and now - key_set.failed_at < self._interval

    def _load(self, key_set: _KeySet, jwks_uri: str, now: float) -> bool:
        """Fetch and replace the keys. False (keeping the old keys) when the fetch fails."""
        host = urlsplit(jwks_uri).hostname
        try:
            keys = _parse(self._fetch(jwks_uri))
        except Exception as exc:  # any failure of a remote fetch: keep what we have, say so
            key_set.failed_at = now
            log.warning("JWKS fetch failed host=%s error=%s", host, type(exc).__name__)
            return False
        key_set.keys = keys
        key_set.fetched_at = now
        key_set.failed_at = None
        log.debug("JWKS fetched host=%s keys=%d", host, sum(len(v) for v in keys.values()))
        return True


def _parse(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no keys list")
    keys: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or not entry["kid"]:
            continue  # a key without a kid can never be chosen by a token's header
        if entry.get("use", "sig") != "sig" or not isinstance(entry.get("kty"), str):
            continue  # encryption keys and malformed entries are not signing keys
        keys.setdefault(entry["kid"], []).append(entry)
    return keys
