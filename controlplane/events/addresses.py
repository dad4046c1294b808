"""Resolving a callback's host and keeping only addresses the control plane may connect to.

Every address a name resolves to must pass (controlplane.domain.callbacks.refused_address): a name
with one public and one private address is refused, since either may be the one connected to.
"""

from __future__ import annotations

import asyncio
import socket

from controlplane.domain.callbacks import CallbackTarget, refused_address


class CallbackRefused(Exception):
    """The callback's host must not be reached (it resolves to a refused address, or not at all)."""


def _addresses(infos: list[tuple[object, ...]]) -> list[str]:
    found: list[str] = []
    for info in infos:
        address = str(info[4][0])  # type: ignore[index]  # (family, type, proto, canonname, sockaddr)
        if address not in found:
            found.append(address)
    return found


def _check(target: CallbackTarget, addresses: list[str], *, sandbox_loopback: bool) -> list[str]:
    if not addresses:
        raise CallbackRefused(f"{target.host} does not resolve to any address")
    for address in addresses:
        reason = refused_address(address, sandbox_loopback=sandbox_loopback)
        if reason:
            raise CallbackRefused(f"{target.host} resolves to {reason}")
    return addresses


def checked_addresses(target: CallbackTarget, *, sandbox_loopback: bool = False) -> list[str]:
    """The addresses of ``target.host``, all allowed; CallbackRefused otherwise."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackRefused(f"{target.host} does not resolve ({exc})") from None
    return _check(target, _addresses(list(infos)), sandbox_loopback=sandbox_loopback)


async def checked_addresses_async(target: CallbackTarget, *, sandbox_loopback: bool = False) -> list[str]:
    """As ``checked_addresses``, without blocking the event loop (the HTTP route is async)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackRefused(f"{target.host} does not resolve ({exc})") from None
    return _check(target, _addresses(list(infos)), sandbox_loopback=sandbox_loopback)
