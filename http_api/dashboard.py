"""The fleet dashboard: a static page the control plane serves, and the read-only operators' route it needs.

The page holds no rights of its own. Loading it needs no credential (like ``/openapi.yaml``); every
number it shows comes from the API, called with the caller's own credential (App Service
Authentication's session on Azure, the key or token typed into the tab in the sandbox), so it shows
exactly what that caller may see. Only the three files in ``dashboard_files/`` can be served: the
asset route takes a name from a fixed list, never a path. Every answer carries a strict
Content-Security-Policy (scripts and styles from this origin only, no inline code, no framing), so
a value that slips past the page's escaping still cannot run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

from controlplane.auth import Principal
from controlplane.registry import default_registry
from controlplane.service.fleet_capacity import fleet_capacity
from controlplane.settings import get_settings
from http_api.routes import guarded_async, json_response

blueprint = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)
# The page and its two files are anonymous at the host on their own routes (the app's level is
# FUNCTION): a browser can send no function key, and these answers hold nothing but code.
PUBLIC = func.AuthLevel.ANONYMOUS

FILES = Path(__file__).resolve().parent / "dashboard_files"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _file(name: str, mimetype: str) -> func.HttpResponse:
    body = (FILES / name).read_bytes()
    return func.HttpResponse(body, status_code=200, mimetype=mimetype, charset="utf-8", headers=SECURITY_HEADERS)


@blueprint.route(route="cp/dashboard", methods=["GET"], auth_level=PUBLIC)
def dashboard(req: func.HttpRequest) -> func.HttpResponse:
    """The page itself: public, like the API's description; the API calls it makes are not."""
    return _file("index.html", "text/html")


@blueprint.route(route="cp/dashboard/{asset}", methods=["GET"], auth_level=PUBLIC)
def dashboard_asset(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("asset", "")
    if name not in ASSETS:  # a name from the list, never a path: nothing else on disk is reachable
        return func.HttpResponse(b"not found", status_code=404, mimetype="text/plain", headers=SECURITY_HEADERS)
    return _file(name, ASSETS[name])


@blueprint.route(route="cp/fleet/capacity", methods=["GET"])
async def get_fleet_capacity(req: func.HttpRequest) -> func.HttpResponse:
    """Operators only: the ARM write budget's backlog per subscription, and placement against its limits."""

    async def work(principal: Principal) -> func.HttpResponse:
        found = await asyncio.to_thread(fleet_capacity, principal, default_registry(), get_settings())
        return json_response(found)

    return await guarded_async(req, work)
