"""Validate real responses against openapi.yaml (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
_URI = "urn:twinstack:openapi"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _at(pointer: list[str]) -> Any:
    node: Any = spec()
    for part in pointer:
        node = node[part]
    return node


def _follow(pointer: list[str]) -> list[str]:
    """The pointer of the object at ``pointer``, following a $ref there."""
    node = _at(pointer)
    while isinstance(node, dict) and "$ref" in node:
        pointer = [p.replace("~1", "/").replace("~0", "~") for p in node["$ref"].removeprefix("#/").split("/")]
        node = _at(pointer)
    return pointer


def _template(method: str, path: str) -> str:
    for template, item in spec()["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template
    raise AssertionError(f"openapi.yaml has no operation for {method} {path}")


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise AssertionError if the response is not what openapi.yaml says for this operation."""
    operation = ["paths", _template(method, path), method.lower(), "responses"]
    assert str(status) in _at(operation), f"{method} {path}: status {status} is not documented"
    response = _follow([*operation, str(status)])
    media = content_type.split(";", 1)[0].strip()
    content = _at(response).get("content", {})
    assert media in content, f"{method} {path} {status}: content type {media} is not documented ({list(content)})"
    if not media.endswith("json"):
        return
    schema_pointer = "/".join(_escape(p) for p in [*response, "content", media, "schema"])
    validator = Draft202012Validator({"$ref": f"{_URI}#/{schema_pointer}"}, registry=_registry())
    errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.path))
    assert not errors, f"{method} {path} {status}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
