"""Is this a valid CloudEvents 1.0 event in the JSON format? The rules, from the spec itself.

Sources (CloudEvents 1.0.2, the version Event Grid documents; Learn: azure/event-grid/cloud-event-schema):
- https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md, "Context Attributes":
  REQUIRED id (non-empty string), source (non-empty URI-reference), specversion ("1.0" for this
  version), type (non-empty string); OPTIONAL datacontenttype (RFC 2046 media type), dataschema
  (non-empty absolute URI), subject (non-empty string), time (RFC 3339 timestamp). Attribute names
  "MUST consist of lower-case letters ('a' to 'z') or digits ('0' to '9') from the ASCII character
  set" and "SHOULD NOT exceed 20 characters".
- https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md: attributes are
  top-level members; ``data`` (JSON) or ``data_base64`` (base64 string), never both; extension
  attributes are strings, numbers (integers) or booleans there.
- Event Grid's own data-plane contract (azure-rest-api-specs
  specification/eventgrid/data-plane/EventGrid/stable/2018-01-01/EventGrid.json, CloudEventEvent):
  required type, specversion, source, id; and (Learn: azure/event-grid/event-schema) an event is at
  most 1 MB.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import urlsplit

MAX_EVENT_BYTES = 1024 * 1024
_NAME = re.compile(r"[a-z0-9]{1,20}")
# RFC 3339 section 5.6 date-time: full-date "T" full-time, with Z or a numeric offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?")
_CONTEXT = {"id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject", "time"}


def cloudevent_problems(event: Any) -> list[str]:
    """Every way ``event`` breaks the spec (empty: valid)."""
    if not isinstance(event, dict):
        return ["an event must be a JSON object"]
    problems: list[str] = []
    for name in ("id", "source", "specversion", "type"):
        if not isinstance(event.get(name), str) or not event[name]:
            problems.append(f"{name} is REQUIRED and must be a non-empty string")
    if event.get("specversion") not in (None, "1.0"):
        problems.append("specversion must be '1.0'")
    for name in ("subject", "dataschema", "datacontenttype", "time"):
        if name in event and (not isinstance(event[name], str) or not event[name]):
            problems.append(f"{name}, when present, must be a non-empty string")
    if isinstance(event.get("time"), str) and not _RFC3339.fullmatch(event["time"]):
        problems.append("time must be an RFC 3339 timestamp")
    if isinstance(event.get("datacontenttype"), str) and not _MEDIA_TYPE.fullmatch(event["datacontenttype"]):
        problems.append("datacontenttype must be an RFC 2046 media type")
    if isinstance(event.get("dataschema"), str) and not urlsplit(event["dataschema"]).scheme:
        problems.append("dataschema must be an absolute URI")
    if "data" in event and "data_base64" in event:
        problems.append("data and data_base64 are mutually exclusive")
    if "data_base64" in event:
        try:
            base64.b64decode(event["data_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            problems.append("data_base64 must be base64")
    for name, value in event.items():
        if name in ("data", "data_base64"):
            continue
        if not _NAME.fullmatch(name):
            problems.append(f"attribute name {name!r} must be 1-20 lower-case ASCII letters or digits")
        elif name not in _CONTEXT and not isinstance(value, (str, int, bool)):
            problems.append(f"extension attribute {name} must be a string, integer or boolean")
    if len(json.dumps(event).encode("utf-8")) > MAX_EVENT_BYTES:
        problems.append("an event must be at most 1 MB")
    return problems
