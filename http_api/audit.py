"""The audit trail of refusals: every 401, 403, 404-for-another-owner and 429, logged once.

One line per refused request on the ``twinstack.audit`` logger: the route, the status, a fixed
reason (the problem's type) and who asked — an owner id, or where an operator's credential came
from (``subject_hint``: issuer host, key id, key slot). Never a token, key or claim value: the
problem details logged here are fixed phrases chosen by our code (controlplane.auth.errors).
"""

from __future__ import annotations

import logging

import azure.functions as func

from controlplane.auth import Principal
from controlplane.domain.errors import ControlPlaneError

audit = logging.getLogger("twinstack.audit")
_AUDITED = frozenset({401, 403, 429})


def principal_id(principal: Principal | None) -> str:
    if principal is None:
        return "anonymous"
    if principal.owner is not None:
        return principal.owner
    return f"operator({principal.via}: {principal.subject_hint})"


def record_refusal(req: func.HttpRequest, error: ControlPlaneError, principal: Principal | None) -> None:
    hidden = error.status == 404 and error.another_owner
    if error.status not in _AUDITED and not hidden:
        return
    route = f"{req.method} {req.url.split('?', 1)[0].split('/api/', 1)[-1]}"
    reason = "another owner's resource" if hidden else error.type
    audit.warning("refused %s: %s %s for %s", route, error.status, reason, principal_id(principal))
