"""The HTTP surface under /api/cp: validate, start or query Durable work, answer."""

from http_api.routes import blueprint

__all__ = ["blueprint"]
