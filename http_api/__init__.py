"""The HTTP surface under /api/cp: validate, start or query Durable work, answer."""

from http_api.audit_trail import blueprint as audit_trail
from http_api.fleet_operations import blueprint as fleet_operations
from http_api.holds import blueprint as holds
from http_api.routes import blueprint

blueprints = [blueprint, fleet_operations, holds, audit_trail]

__all__ = ["blueprint", "blueprints"]
