"""Where a caller may have its twin's events sent (``callback_url``): the rules that stop SSRF.

A callback URL makes the control plane open a connection its caller chose. Unchecked, a caller
could point it into the control plane's own network: the instance metadata service
(169.254.169.254), loopback ports, the private addresses of its VNet. So a callback URL must:

- be ``https://``, with no user info, query or fragment (the URL is kept on the row and in job
  history, where a token would be a secret; deliveries are authenticated by their signature);
- name its host as a DNS name on the operator's allow-list (``CP_CALLBACK_ALLOWED_HOSTS``: exact
  names, or ``*.example.com`` for any name below it), never an IP literal in any spelling (dotted,
  ``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``[::1]``, ``[::ffff:127.0.0.1]``);
- resolve only to public unicast addresses — checked at POST and again before every delivery,
  which then connects to an address it checked, so a DNS answer that changes cannot steer it.
  IPv6 addresses that embed an IPv4 one (mapped, 6to4, Teredo, NAT64) are judged by that one.

Redirects are never followed. In the sandbox, ``CP_CALLBACK_SANDBOX_LOOPBACK=true`` permits loopback
hosts and addresses, and only those; settings refuse it unless every allowed host is loopback.

Pure: resolving names is the adapter's job (controlplane.events.addresses).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from controlplane.domain.errors import InvalidInput

FIELD = "callback_url"
MAX_URL_LENGTH = 2048
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix


@dataclass(frozen=True)
class CallbackPolicy:
    """The operator's rules for callback URLs (from settings)."""

    allowed_hosts: tuple[str, ...]
    sandbox_loopback: bool = False


@dataclass(frozen=True)
class CallbackTarget:
    url: str
    host: str  # lower case, no trailing dot
    port: int
    path: str


def _refuse(detail: str) -> InvalidInput:
    return InvalidInput(FIELD, detail)


def is_ip_literal(host: str) -> bool:
    """Any spelling the resolver or a URL parser would read as an address, not only the canonical one."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)  # accepts 2130706433, 0177.0.0.1, 0x7f.1, 127.1 (inet_aton(3))
        return True
    except OSError:
        return False


def host_allowed(host: str, allowed_hosts: tuple[str, ...]) -> bool:
    for entry in allowed_hosts:
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif host == entry:
            return True
    return False


def parse_callback_url(url: object, policy: CallbackPolicy) -> CallbackTarget:
    """The target a callback URL names, or InvalidInput (field callback_url) saying what to change."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise _refuse(f"callback_url must be an https:// URL of at most {MAX_URL_LENGTH} characters")
    if not policy.allowed_hosts:
        raise _refuse("callbacks are not enabled on this control plane (CP_CALLBACK_ALLOWED_HOSTS is empty)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("callback_url is not a valid URL") from None
    if parts.scheme != "https":
        raise _refuse("callback_url must use https:// (events are never sent in clear text)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse("callback_url must not carry credentials; deliveries are signed (webhook-signature header)")
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        raise _refuse(
            "callback_url must not carry a query string or fragment: the URL is stored with the twin, so a token in "
            "it would be a stored secret; authenticate deliveries with the webhook-signature header instead"
        )
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refuse("callback_url must name a host")
    loopback_literal = policy.sandbox_loopback and host in LOOPBACK_NAMES
    if is_ip_literal(host) and not loopback_literal:
        raise _refuse(f"callback_url must name its host by DNS name, not an IP address ({host})")
    if not loopback_literal and not _DNS_NAME.fullmatch(host):
        raise _refuse(f"callback_url's host {host!r} is not a valid DNS name")
    if not host_allowed(host, policy.allowed_hosts):
        raise _refuse(
            f"callback_url's host {host} is not on this control plane's allow-list (CP_CALLBACK_ALLOWED_HOSTS)"
        )
    return CallbackTarget(url=url, host=host, port=port or 443, path=parts.path or "/")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refused_address(address: str, *, sandbox_loopback: bool = False) -> str | None:
    """Why the control plane must not connect to ``address``; None when it may."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    if sandbox_loopback:
        return None if ip.is_loopback else f"{address} is not loopback (the sandbox setting permits only loopback)"
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return f"{address} is a {kind} address"
    if not ip.is_global:
        return f"{address} is not a public address"
    return None
