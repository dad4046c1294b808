"""One GET of a twin's readiness route: its status, and the deploy_ref it reports running.

The root URL is never asked: Azure answers it with a landing page whether or not any code loaded
(and twins turn that page off with AzureWebJobsDisableHomepage). Redirects are not followed: a
twin's route answers itself. Used by readiness (provisioning, updates), the heartbeat and adoption.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class ProbeAnswer:
    status: int | None  # None: no HTTP answer at all (refused, timed out, TLS)
    deploy_ref: str | None  # what a 2xx JSON body says it runs, if it says
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def probe(url: str, *, timeout: float, session: requests.Session | None = None) -> ProbeAnswer:
    try:
        response = (session or requests).get(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return ProbeAnswer(None, None, type(exc).__name__)
    return ProbeAnswer(response.status_code, _reported_deploy_ref(response))


def _reported_deploy_ref(response: requests.Response) -> str | None:
    if not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("deploy_ref") if isinstance(body, dict) else None
    return str(value)[:64] if value is not None else None
