"""A signed-in browser's session cannot be spent by another site: Fetch Metadata, for App Service auth.

With App Service Authentication (``platform_auth``) a browser holds a session cookie, and the
browser attaches it to any request to our origin, including a form another site posts. Bearer
tokens and API keys are never attached by a browser on its own, so only platform sessions need
this. Browsers say where a request came from in ``Sec-Fetch-Site`` (W3C Fetch Metadata; sent by
every current browser): a change (POST, PATCH, DELETE) made with a platform session is refused
unless it came from this origin (the dashboard) or from no page at all (``none``: typed or
bookmarked; absent: not a browser). Reads are left alone: another site cannot read our answers.
"""

from __future__ import annotations

from collections.abc import Mapping

from controlplane.auth.errors import Forbidden
from controlplane.auth.principal import Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOWED_SITES = frozenset({"same-origin", "none"})


def refuse_cross_site_change(principal: Principal, method: str, headers: Mapping[str, str]) -> None:
    """Raise Forbidden (403) for a platform-session change another site's page sent."""
    if principal.via != "platform" or method.upper() in SAFE_METHODS:
        return
    site = next((value for name, value in headers.items() if name.lower() == "sec-fetch-site"), None)
    if site is not None and site.strip().lower() not in ALLOWED_SITES:
        raise Forbidden("a signed-in browser session may change things only from this origin's own pages")
