"""Accepting a create's ``callback_url``: the operator's rules, then where its host resolves.

Refused at POST with a 400 naming ``callback_url`` (and checked again before every delivery, as DNS
may change). The receiver itself is not contacted here: a dead receiver must never stop a twin.
"""

from __future__ import annotations

from controlplane.domain.callbacks import FIELD, parse_callback_url
from controlplane.domain.errors import InvalidInput
from controlplane.events.addresses import CallbackRefused, checked_addresses_async
from controlplane.settings import Settings


async def checked_callback_url(url: str | None, settings: Settings) -> str | None:
    if url is None:
        return None
    policy = settings.callback_policy
    target = parse_callback_url(url, policy)
    try:
        await checked_addresses_async(target, sandbox_loopback=policy.sandbox_loopback)
    except CallbackRefused as refused:
        raise InvalidInput(
            FIELD, f"callback_url is refused: {refused}; the control plane only calls public addresses"
        ) from None
    return url
