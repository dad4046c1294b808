"""What building a twin's Function App gives back, and the shape every hosting kind's builder has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from controlplane.arm.clients import ArmClients
from controlplane.domain.naming import TwinNames
from controlplane.domain.step_outputs import Begun, Built

# What a builder gives back is what the activity hands the orchestrator: its type lives in the domain.
__all__ = ["AppBuilder", "Begun", "Built"]


class AppBuilder(Protocol):
    """Builds a twin's plan and site (and what they need) for one hosting kind, in phases, each idempotent:
    the plan (``plan_body``, sent by the caller), ``begin_site`` (sends the site PUT without waiting), and
    ``finish`` once ARM has made the site (what needs the made site, e.g. its identity's roles)."""

    def plan_body(self, names: TwinNames, *, region: str, tags: dict[str, str]) -> dict[str, Any]: ...

    def begin_site(
        self, clients: ArmClients, names: TwinNames, *, region: str, tags: dict[str, str],
        operator_settings: Mapping[str, str],
    ) -> Begun: ...  # fmt: skip

    def finish(self, clients: ArmClients, names: TwinNames) -> Built: ...
