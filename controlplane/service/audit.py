"""Reading the audit trail: who may see which records, and the query's parameters, validated."""

from __future__ import annotations

from datetime import UTC, datetime

from controlplane.auth import Principal
from controlplane.domain.errors import InvalidInput
from controlplane.domain.naming import is_cloud_id
from controlplane.domain.twin import timestamp
from controlplane.registry import TwinRegistry
from controlplane.registry.audit_log import MAX_PAGE_SIZE, AuditPage

AUDIT_PARAMS = frozenset({"cloud_id", "principal", "since", "limit", "next"})
DEFAULT_PAGE_SIZE = 100
_MAX_PRINCIPAL = 256


def audit_page(principal: Principal, params: dict[str, str], registry: TwinRegistry) -> AuditPage:
    """One page of the records this caller may read: an operator all, an owner those of its own twins."""
    unknown = sorted(set(params) - AUDIT_PARAMS)
    if unknown:
        raise InvalidInput(
            unknown[0], f"unknown query parameter '{unknown[0]}'; use cloud_id, principal, since, limit, next"
        )
    cloud_id = params.get("cloud_id") or None
    if cloud_id is not None and not is_cloud_id(cloud_id):
        raise InvalidInput("cloud_id", "cloud_id is a twin's id (twin-<name>-<hash6>)")
    who = params.get("principal") or None
    if who is not None and (len(who) > _MAX_PRINCIPAL or not who.isprintable()):
        raise InvalidInput(
            "principal", f"principal is an owner id or an operator's origin, at most {_MAX_PRINCIPAL} characters"
        )
    return registry.audit.page(
        owner=None if principal.is_operator else principal.owner,
        target=cloud_id,
        principal=who,
        since=_since(params.get("since")),
        limit=_limit(params.get("limit")),
        next=params.get("next") or None,
    )


def _since(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        # RFC 3339 allows a lower-case "t" and "z" (section 5.6); fromisoformat takes upper case only.
        moment = datetime.fromisoformat(raw.upper().replace("Z", "+00:00")) if len(raw) <= 40 else None
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput("since", "since is an ISO 8601 time, e.g. 2026-12-07T06:00:00Z")
    return timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 4 or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)
