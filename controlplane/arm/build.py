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


@dataclass(frozen=True)
class Begun:
    """A site PUT sent: the operation URL to poll (None: ARM answered 200) and the setting names it set."""

    operation_url: str | None
    settings: list[str]

    def to_result(self) -> dict[str, Any]:
        return {"operation_url": self.operation_url, "settings": self.settings}


class AppBuilder(Protocol):
    """Builds a twin's plan and site (and what they need) for one hosting kind, in phases, each idempotent:
    the plan (``plan_body``, sent by the caller), ``begin_site`` (sends the site PUT without waiting), and
    ``finish`` once ARM has made the site (what needs the made site, e.g. its identity's roles)."""

    def plan_body(self, names: BrainstemNames, *, region: str, tags: dict[str, str]) -> dict[str, Any]: ...

    def begin_site(
        self, clients: ArmClients, names: BrainstemNames, *, region: str, tags: dict[str, str],
        operator_settings: Mapping[str, str],
    ) -> Begun: ...  # fmt: skip

    def finish(self, clients: ArmClients, names: BrainstemNames) -> Built: ...
