"""What building a twin's Function App gives back, and the shape every hosting kind's builder has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import BrainstemNames


@dataclass(frozen=True)
class Built:
    """What an activity may return about a built app: no secret, no setting value."""

    host: str
    settings: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    def to_result(self) -> dict[str, Any]:
        return {"host": self.host, "settings": self.settings, **self.details}


class AppBuilder(Protocol):
    """Builds a twin's plan and site (and what they need) for one hosting kind. Idempotent."""

    def build(
        self, clients: ArmClients, names: BrainstemNames, *, region: str, tags: dict[str, str],
        operator_settings: Mapping[str, str], update: bool = False,
    ) -> Built: ...  # fmt: skip
