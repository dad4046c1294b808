"""Flat frozen dataclasses as JSON objects, both ways: what a Durable activity's input or output is.

Durable keeps every activity input and output in the orchestration's history as JSON and hands the
same JSON back on each replay, so a message type must turn into exactly the JSON its dict did before
and back again. ``JsonRecord`` does that for the flat ones: each field is one key; a field named in
``OMIT_WHEN_NONE`` is left out while it is None (the shape the dicts had). Reading ignores keys the
type does not name and lets a missing key take its default, so a history recorded before a field
existed still reads. A record with a nested value writes its own ``to_json``/``from_json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

JsonObject: TypeAlias = dict[str, Any]  # noqa: UP040 - the product still runs on 3.11 (pyproject)


class JsonRecord:
    """Mixin for a frozen dataclass whose fields are JSON values."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> JsonObject:
        record = cast("DataclassInstance", self)
        return {
            f.name: getattr(self, f.name)
            for f in fields(record)
            if not (f.name in self.OMIT_WHEN_NONE and getattr(self, f.name) is None)
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        known = {f.name for f in fields(cast("type[DataclassInstance]", cls))}
        return cls(**{key: value for key, value in data.items() if key in known})
