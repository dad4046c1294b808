"""Which owner a principal may act for: the questions every route asks.

Pure functions, so that the multi-tenant rules live here and nowhere else. An owner acts only for
itself; an operator for anyone, but must say for whom when creating. Routes turn ``can_see`` ==
False into 404 rather than 403, so that one owner cannot learn that another's twin exists.
"""

from __future__ import annotations

from controlplane.auth.errors import Forbidden, InvalidOwner
from controlplane.auth.principal import Principal
from controlplane.domain.errors import InvalidInput
from controlplane.domain.twin import validate_owner


def owner_for_create(principal: Principal, requested_owner: str | None) -> str:
    """The owner a new brainstem gets. Raises Forbidden (403) or InvalidOwner (400)."""
    requested = _valid(requested_owner)
    if principal.is_operator:
        if requested is None:
            raise InvalidOwner("owner is required when an operator creates a brainstem")
        return requested
    assert principal.owner is not None  # Principal guarantees it for kind="owner"
    if requested is not None and requested != principal.owner:
        raise Forbidden("an owner may only create brainstems for itself")
    return principal.owner


def owner_filter_for_list(principal: Principal, requested_owner: str | None) -> str | None:
    """The owner to filter a listing by; None means every owner (operators only)."""
    requested = _valid(requested_owner)
    if principal.is_operator:
        return requested
    if requested is not None and requested != principal.owner:
        raise Forbidden("an owner may only list its own brainstems")
    return principal.owner


def require_operator(principal: Principal, what: str) -> None:
    """Fleet-wide work (health, rollouts, adoption) is for operators: Forbidden (403) for an owner."""
    if not principal.is_operator:
        raise Forbidden(f"{what} is for operators")


def can_see(principal: Principal, row_owner: str) -> bool:
    """Whether the principal may see (and act on) a row owned by ``row_owner``."""
    return principal.is_operator or row_owner == principal.owner


def _valid(requested_owner: str | None) -> str | None:
    if requested_owner is None:
        return None
    try:
        return validate_owner(requested_owner)
    except InvalidInput as exc:
        raise InvalidOwner(exc.detail) from None
