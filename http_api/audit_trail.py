"""GET /api/cp/audit: the record of accepted changes (http_api.change_log writes it).

Operators read every record; an owner reads only the records of its own twins (the records carry the
twin's owner, and an owner's query is confined to its own partition), never a rollout's or another
owner's. Paged with continuation tokens bound to the query that issued them.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from controlplane.auth import Principal
from controlplane.registry import default_registry
from controlplane.service.audit import audit_page
from http_api.routes import guarded, json_response

blueprint = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)


@blueprint.route(route="cp/audit", methods=["GET"])
def list_audit_records(req: func.HttpRequest) -> func.HttpResponse:
    def work(principal: Principal) -> func.HttpResponse:
        page = audit_page(principal, dict(req.params), default_registry())
        return json_response({"items": [record.to_dict() for record in page.items], "next": page.next})

    return guarded(req, work)
