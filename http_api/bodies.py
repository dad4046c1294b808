"""Reading requests: content type, size cap, JSON, and the create body's fields.

Validation reuses the domain's rules (naming, owners, regions, runtime targets), so the API and
the workflows can never disagree on what a valid twin is.
"""

from __future__ import annotations

import json
import re
from typing import Any

import azure.functions as func
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from controlplane.brainstem import validate_owner
from controlplane.errors import InvalidInput
from controlplane.naming import validate_twin_name
from controlplane.runtime_targets import TARGETS
from http_api.problems import PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 16 * 1024
_DEPLOY_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CreateRequest(BaseModel):
    """The body of POST /api/cp/brainstems."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    owner: str | None = None
    region: str | None = None
    runtime_target: str | None = None
    deploy_ref: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        return validate_twin_name(value)

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, value: object) -> object:
        return None if value is None else validate_owner(value)

    @field_validator("runtime_target", mode="before")
    @classmethod
    def _target(cls, value: object) -> object:
        if value is not None and value not in TARGETS:
            raise InvalidInput("runtime_target", f"runtime_target must be one of: {', '.join(sorted(TARGETS))}")
        return value

    @field_validator("deploy_ref", mode="before")
    @classmethod
    def _deploy_ref(cls, value: object) -> object:
        if value is not None and not (isinstance(value, str) and _DEPLOY_REF.fullmatch(value)):
            raise InvalidInput(
                "deploy_ref", "deploy_ref must be 1-64 letters, digits, '.', '_' or '-' (a git sha, tag or bundle hash)"
            )
        return value


def read_json_body(req: func.HttpRequest) -> dict[str, Any]:
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
