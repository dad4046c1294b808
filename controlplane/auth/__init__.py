"""Who is calling, and for which owner they may act: the control plane's doorman.

``Authenticator.authenticate(headers)`` turns request headers into a ``Principal`` (an operator, or
one owner) or raises ``Unauthorized``; ``owner_for_create``, ``owner_filter_for_list`` and
``can_see`` answer the authorization questions routes ask. Nothing here imports Azure Functions, and
nothing here ever logs or returns a token, key or claim value.
"""

from controlplane.auth.authenticator import Authenticator, hash_api_key
from controlplane.auth.authorization import can_see, owner_filter_for_list, owner_for_create, require_operator
from controlplane.auth.config import AuthConfig, OidcIssuer
from controlplane.auth.errors import AuthenticationUnavailable, Forbidden, InvalidOwner, Unauthorized
from controlplane.auth.principal import Principal

__all__ = [
    "require_operator",
    "AuthConfig",
    "AuthenticationUnavailable",
    "Authenticator",
    "Forbidden",
    "InvalidOwner",
    "OidcIssuer",
    "Principal",
    "Unauthorized",
    "can_see",
    "hash_api_key",
    "owner_filter_for_list",
    "owner_for_create",
]
