"""The Functions host's key check, for the sandbox: which key opens which HTTP trigger ``authLevel``.

On Azure the host decides before any of the app's code runs whether a request may reach an HTTP
function; the sandbox decides the same way, so a route that would be shut on Azure is shut here.
The rules, from Azure/azure-functions-host ``src/WebJobs.Script.WebHost``:

- Where the key comes from (``Security/Authentication/Keys/AuthenticationLevelHandler.cs``,
  ``GetAuthorizationKeyInfoAsync``): the ``x-functions-key`` header, else the ``code`` query
  parameter; the header wins when both are sent. An empty value is no key.
- What the key is worth (``Security/KeyManagement/SecretManager.cs``, ``GetAuthorizationLevelAsync``),
  checked in this order: the master key is ``Admin``; a system key (e.g. the Durable extension's
  ``durabletask_extension``) is ``System``; a host function key is ``Function`` for every function; a
  key of that function is ``Function`` for it alone. Any other value is worth nothing (``Anonymous``).
- Whether it opens the route (``Security/Authorization/AuthUtility.cs``, ``PrincipalHasAuthLevelClaim``):
  an ``Anonymous`` route is open to all; ``Admin`` opens every route; otherwise the key's level must
  *equal* the route's (a system key does not open a ``Function`` route, a function key no ``Admin`` one).
- The refusal (``Middleware/FunctionInvocationMiddleware.cs``): ``new UnauthorizedResult()`` -- a 401
  with an empty body; the function is never invoked.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import azure.functions as func

from sandbox.worker.metadata import IndexedFunction

ANONYMOUS, FUNCTION, SYSTEM, ADMIN = "anonymous", "function", "system", "admin"
FUNCTIONS_KEY_HEADER = "x-functions-key"
FUNCTIONS_KEY_QUERY = "code"
DURABLE_SYSTEM_KEY_NAME = "durabletask_extension"  # the system key the Durable extension's webhooks use


def _new_key() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class HostKeys:
    """An app's keys as the host holds them (``HostSecrets`` + one ``FunctionSecrets`` per function)."""

    master: str = field(default_factory=_new_key)
    host_function_keys: dict[str, str] = field(default_factory=lambda: {"default": _new_key()})
    system_keys: dict[str, str] = field(default_factory=dict)
    function_keys: dict[str, dict[str, str]] = field(default_factory=dict)

    def key_of(self, function_name: str) -> str:
        """The function's ``default`` key, made on first use as the host makes it."""
        keys = self.function_keys.setdefault(function_name.lower(), {})
        return keys.setdefault("default", _new_key())

    def level_of(self, key: str, function_name: str | None) -> str:
        """``SecretManager.GetAuthorizationLevelAsync``: master, then system, host, and function keys."""
        if not key:
            return ANONYMOUS
        if _equal(key, self.master):
            return ADMIN
        if any(_equal(key, value) for value in self.system_keys.values()):
            return SYSTEM
        if any(_equal(key, value) for value in self.host_function_keys.values()):
            return FUNCTION
        own = self.function_keys.get((function_name or "").lower(), {})
        if any(_equal(key, value) for value in own.values()):
            return FUNCTION
        return ANONYMOUS


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The key a request carries: the header first, then ``code`` (AuthenticationLevelHandler)."""
    for name, value in headers.items():
        if name.lower() == FUNCTIONS_KEY_HEADER:
            return value
    return query.get(FUNCTIONS_KEY_QUERY, "")


def opens(key_level: str, route_level: str) -> bool:
    """``AuthUtility.PrincipalHasAuthLevelClaim``."""
    route_level = route_level.lower()
    return route_level == ANONYMOUS or key_level == ADMIN or key_level == route_level


def authorized(
    keys: HostKeys, route_level: str, function_name: str, headers: Mapping[str, str], query: Mapping[str, str]
) -> bool:
    """Whether the host lets this request reach ``function_name`` (an HTTP trigger of ``route_level``)."""
    if route_level.lower() == ANONYMOUS:
        return True
    return opens(keys.level_of(presented_key(headers, query), function_name), route_level)


def refusal(keys: HostKeys, function: IndexedFunction, request: func.HttpRequest) -> func.HttpResponse | None:
    """The host's answer when it refuses ``request`` to the HTTP function ``function``, else None.

    The trigger's ``authLevel`` is read from the worker's metadata, as the host reads it; a binding
    without one is ``function`` (``HttpTriggerAttribute``'s default).
    """
    level = str(function.trigger.get("authLevel") or FUNCTION)
    if authorized(keys, level, function.name, request.headers, request.params):
        return None
    return func.HttpResponse(status_code=401)  # UnauthorizedResult: no body
