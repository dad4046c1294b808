"""Map an ARM request path to one of the route names the tests and fault injection speak in.

ARM matches paths case-insensitively (the resource-group client writes ``resourcegroups``, the
others ``resourceGroups``), so literals are compared lower-cased while captured names keep the
caller's spelling: ARM echoes names as first written. Role assignments hang under an arbitrary
scope, so they are matched from the end of the path rather than by a fixed pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

_GROUP = "subscriptions/{subscription}/resourcegroups/{group}"
_STORAGE = _GROUP + "/providers/microsoft.storage/storageaccounts/{name}"
_FARM = _GROUP + "/providers/microsoft.web/serverfarms/{name}"
_SITE = _GROUP + "/providers/microsoft.web/sites/{name}"
_LOCK = _GROUP + "/providers/microsoft.authorization/locks/{lock}"

_PATTERNS: tuple[tuple[str, str, str], ...] = (
    # Subscription-wide lists (sandbox/arm/listing.py).
    ("GET", "subscriptions/{subscription}/resourcegroups", "resource_groups.list"),
    ("GET", "subscriptions/{subscription}/providers/microsoft.web/sites", "sites.list"),
    ("PUT", _GROUP, "resource_groups.create_or_update"),
    ("GET", _GROUP, "resource_groups.get"),
    ("HEAD", _GROUP, "resource_groups.check_existence"),
    ("DELETE", _GROUP, "resource_groups.delete"),
    ("PUT", _LOCK, "locks.create_or_update"),
    ("GET", _LOCK, "locks.get"),
    ("DELETE", _LOCK, "locks.delete"),
    ("PUT", _STORAGE, "storage_accounts.create"),
    ("GET", _STORAGE, "storage_accounts.get"),
    ("POST", _STORAGE + "/listkeys", "storage_accounts.list_keys"),
    ("PUT", _STORAGE + "/blobservices/default/containers/{container}", "blob_containers.create"),
    ("GET", _STORAGE + "/blobservices/default/containers/{container}", "blob_containers.get"),
    ("PUT", _FARM, "server_farms.create_or_update"),
    ("GET", _FARM, "server_farms.get"),
    ("PUT", _SITE, "sites.create_or_update"),
    ("GET", _SITE, "sites.get"),
    ("PUT", _SITE + "/config/appsettings", "sites.update_application_settings"),
    ("POST", _SITE + "/config/appsettings/list", "sites.list_application_settings"),
    ("POST", _SITE + "/restart", "sites.restart"),
    ("POST", _SITE + "/syncfunctiontriggers", "sites.sync_function_triggers"),
    ("POST", "subscriptions/{subscription}/providers/microsoft.web/checknameavailability", "web_names.check"),
    ("POST", "subscriptions/{subscription}/providers/microsoft.storage/checknameavailability", "storage_names.check"),
    ("GET", "subscriptions/{subscription}/providers/microsoft.web/georegions", "geo_regions.list"),
)

_ROLE_ASSIGNMENTS = ("providers", "microsoft.authorization", "roleassignments")
# Last-but-one segment of every operation URL the stand-in hands out (and of ARM's own).
_OPERATION_COLLECTIONS = {"operationresults", "asyncoperations", "operationstatuses"}

ROUTE_NAMES: frozenset[str] = frozenset(
    [name for _, _, name in _PATTERNS] + ["role_assignments.create", "role_assignments.get", "operations.get"]
)
# Routes whose answer may be a long-running operation, so an `lro_failed` fault means something.
LRO_ROUTES: frozenset[str] = frozenset(
    {
        "resource_groups.delete",
        "storage_accounts.create",
        "server_farms.create_or_update",
        "sites.create_or_update",
    }
)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Route:
    name: str
    params: dict[str, str]


def split_path(path: str) -> list[str]:
    """Segments of a URL path; empty segments dropped (the SDK may write ``//subscriptions``)."""
    return [segment for segment in path.split("/") if segment]


def match(method: str, path: str) -> Route:
    segments = split_path(path)
    lowered = [segment.lower() for segment in segments]
    for pattern_method, pattern, name in _PATTERNS:
        if pattern_method != method:
            continue
        params = _match_pattern(split_path(pattern), segments, lowered)
        if params is not None:
            return Route(name, params)
    return (
        _match_role_assignment(method, segments, lowered)
        or _match_operation(method, segments, lowered)
        or Route(UNKNOWN, _subscription_only(segments, lowered))
    )


def _match_pattern(pattern: list[str], segments: list[str], lowered: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for literal, segment, lower in zip(pattern, segments, lowered, strict=True):
        if literal.startswith("{"):
            params[literal[1:-1]] = segment
        elif literal != lower:
            return None
    return params


def _match_role_assignment(method: str, segments: list[str], lowered: list[str]) -> Route | None:
    if method not in ("PUT", "GET") or len(segments) < 6:
        return None
    if tuple(lowered[-4:-1]) != _ROLE_ASSIGNMENTS:
        return None
    scope_segments = segments[:-4]
    params = {"scope": "/" + "/".join(scope_segments), "name": segments[-1]}
    params.update(_subscription_only(scope_segments, lowered[:-4]))
    if len(scope_segments) >= 4 and lowered[2] == "resourcegroups":
        params["group"] = scope_segments[3]
    name = "role_assignments.create" if method == "PUT" else "role_assignments.get"
    return Route(name, params)


def _match_operation(method: str, segments: list[str], lowered: list[str]) -> Route | None:
    if method != "GET" or len(segments) < 4 or lowered[-2] not in _OPERATION_COLLECTIONS:
        return None
    params = _subscription_only(segments, lowered)
    if "subscription" not in params:
        return None
    params["operation"] = segments[-1]
    return Route("operations.get", params)


def _subscription_only(segments: list[str], lowered: list[str]) -> dict[str, str]:
    if len(segments) >= 2 and lowered[0] == "subscriptions":
        return {"subscription": segments[1]}
    return {}
