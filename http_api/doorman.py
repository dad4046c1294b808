"""Authentication for every route, in one place: the doorman.

Routes are anonymous at the Functions level (the host's key check would turn away bearer-token
callers before our code runs), so each route handler runs inside ``guarded()``, which names the
caller first. A route cannot forget it: ``guarded`` is the only way routes reach their work, and a
test sends every route a request with no credential.
"""

from __future__ import annotations

import logging

import azure.functions as func

from controlplane.auth import Authenticator, Principal, Unauthorized
from controlplane.auth.cross_site import refuse_cross_site_change
from controlplane.settings import get_settings

logger = logging.getLogger(__name__)

_authenticator: tuple[object, Authenticator] | None = None


def authenticator() -> Authenticator | None:
    """The process-wide Authenticator (it caches identity providers' keys), or None if CP_AUTH is unset."""
    global _authenticator
    config = get_settings().auth
    if config is None:
        return None
    if _authenticator is None or _authenticator[0] is not config:
        _authenticator = (config, Authenticator(config))
    return _authenticator[1]


def authenticate(req: func.HttpRequest) -> Principal:
    current = authenticator()
    if current is None:
        logger.warning("CP_AUTH is not set: no caller can authenticate")
        raise Unauthorized("this control plane has no authentication configured (CP_AUTH)")
    principal = current.authenticate(req.headers)
    refuse_cross_site_change(principal, req.method, req.headers)  # a browser session spent by another site
    return principal
