"""Delivering one event to a twin's callback URL: signed, to a checked address, never redirected.

The request is the CloudEvents HTTP binding in structured mode: ``POST``, ``Content-Type:
application/cloudevents+json; charset=utf-8``, the event's JSON as the body
(https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md,
3.2 Structured Content Mode) — what an Event Grid webhook subscription in the CloudEvents schema
sends too (Learn: azure/event-grid/cloud-event-schema).

It is signed as Standard Webhooks specifies (https://github.com/standard-webhooks/standard-webhooks,
spec/standard-webhooks.md), with its reference library: ``webhook-id`` (the event id, for
de-duplication), ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,`` + base64 of
HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"), one per configured key (rotation).

The host is resolved and every address checked (controlplane.events.addresses) right before the
connection, which goes to one of those addresses with the host name for SNI, certificate check and
``Host`` — a DNS answer that changes after the check cannot send it elsewhere.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import certifi
import urllib3
from standardwebhooks import Webhook

from controlplane.domain.callbacks import CallbackTarget, parse_callback_url
from controlplane.domain.errors import InvalidInput
from controlplane.events.addresses import CallbackRefused, checked_addresses
from controlplane.settings import Settings

logger = logging.getLogger(__name__)
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)
# A receiver that answers one of these may succeed next time; any other answer is final.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class DeliveryRefused(Exception):
    """The receiver cannot take this event, now or later (a 4xx, a redirect, a refused address)."""


class DeliveryFailed(Exception):
    """The receiver did not take the event this time (no answer, 5xx, 429): worth a retry."""


def signature_headers(event_id: str, body: str, keys: tuple[str, ...], *, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers for ``body``; the first key is the current one, the others are in rotation."""
    signatures = [Webhook(key).sign(event_id, at, body) for key in keys]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def deliver(cloudevent: dict[str, Any], callback_url: str, settings: Settings) -> int:
    """POST the event; the receiver's status on success, DeliveryRefused or DeliveryFailed otherwise."""
    policy = settings.callback_policy
    try:
        target = parse_callback_url(callback_url, policy)  # the rules may have changed since the POST
        addresses = checked_addresses(target, sandbox_loopback=policy.sandbox_loopback)
    except CallbackRefused as refused:
        raise DeliveryRefused(str(refused)) from None
    except InvalidInput as invalid:  # the allow-list no longer admits this host
        raise DeliveryRefused(invalid.detail) from None
    body = json.dumps(cloudevent, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "Host": target.host if target.port == 443 else f"{target.host}:{target.port}",
        "Content-Type": CONTENT_TYPE,
        "User-Agent": "twinstack-control-plane",
        **signature_headers(cloudevent["id"], body, settings.callback_signing_keys, at=datetime.now(UTC)),
    }
    status = _post(target, addresses, body.encode("utf-8"), headers, ca_bundle=settings.events_ca_bundle)
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise DeliveryRefused(f"{target.host} answered {status} (a redirect); redirects are never followed")
    if status in RETRYABLE_STATUSES:
        raise DeliveryFailed(f"{target.host} answered {status}")
    raise DeliveryRefused(f"{target.host} answered {status}")


def _post(
    target: CallbackTarget, addresses: list[str], body: bytes, headers: dict[str, str], *, ca_bundle: str | None
) -> int:
    """POST to the first checked address that takes a connection (an IPv6 answer may be unreachable)."""
    failure: Exception | None = None
    for address in addresses:
        pool = urllib3.HTTPSConnectionPool(
            address, target.port,
            server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle or certifi.where(),
            timeout=TIMEOUT, retries=False, maxsize=1,
        )  # fmt: skip
        try:
            response = pool.urlopen("POST", target.path, body=body, headers=headers, redirect=False, retries=False)
            return int(response.status)
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
            failure = exc  # nothing was sent: the next address may answer
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryFailed(f"{target.host} did not answer ({type(exc).__name__})") from None
        finally:
            pool.close()
    raise DeliveryFailed(f"{target.host} took no connection ({type(failure).__name__})")
