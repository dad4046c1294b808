"""Reading requests: content type, size cap, JSON, and the create body's fields.

Validation reuses the domain's rules (naming, owners, regions, runtime targets), so the API and
the workflows can never disagree on what a valid twin is.
"""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
from pydantic import ValidationError

from controlplane.domain.errors import InvalidInput
from controlplane.service.requests import CreateRequest
from http_api.problems import PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 16 * 1024


def read_json_body(req: func.HttpRequest, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object; with ``optional``, no body at all reads as ``{}`` (its fields' defaults)."""
    if optional and not req.get_body():
        return {}
    content_type = (req.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json", field="content-type")
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}", limit=MAX_BODY_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("body", f"the body is not valid JSON ({exc.__class__.__name__}: {exc})") from None
    except ValueError:  # an integer over Python's int-string limit (4,300 digits) is valid JSON json.loads refuses
        raise InvalidInput("body", "the body holds a number too long to read; no field takes one") from None
    except RecursionError:  # a few thousand nested arrays fit in 16 KiB and exhaust the parser's stack
        raise InvalidInput("body", "the body nests too deeply; a request body is a flat JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput("body", "the body must be a JSON object")
    return data


def parse_create(req: func.HttpRequest) -> CreateRequest:
    data = read_json_body(req)
    try:
        return CreateRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(CreateRequest.model_fields)
            raise InvalidInput(field, f"unknown field '{field}'; the fields are: {allowed}") from None
        if error["type"] == "missing":
            raise InvalidInput(field, f"'{field}' is required") from None
        raise InvalidInput(field, f"'{field}': {error['msg']}") from None
