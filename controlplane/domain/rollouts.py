"""A rollout's plan: which twins, in which waves, how many at once, and when to stop. Pure data.

Waves grow from a canary: ``canary``, then each wave ``growth`` times the last, until the
selection is exhausted — so a bad version meets one twin (or a handful) before it meets the
fleet. A wave whose failures exceed ``max_failure_ratio`` of its size halts the rollout, and the
twins that wave moved are moved back. The selection is never counted up front (at 100,000 twins
that would be a scan): waves take the next twins in cloud_id order until none are left.
``parallelism`` is a window per subscription: each subscription updates up to that many of the
wave's twins at once, whatever the others do, so one subscription's slow or numerous twins never
take another's places.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from controlplane.domain.errors import InvalidInput
from controlplane.domain.rollout_gates import RolloutGates
from controlplane.domain.twin import validate_owner

_DEPLOY_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_REGION = re.compile(r"[a-z0-9]{2,40}")
_SELECTOR_FIELDS = ("owner", "region", "runtime_target", "deploy_ref")
# Twins of a wave updating at once in each subscription (each subscription's window, independent of
# the others'). A subscription's writes bucket (200, refilled 10/s; the budget spends 9.5/s) keeps
# about 30 updates busy (7 writes over a 20 s chain); 100 covers a chain three times as slow. More
# would only wait in the write budget, while every look reads one Durable status per running twin,
# in all subscriptions together (32 at a time).
MAX_PARALLELISM = 100
MAX_CANARY = 1000
_WHOLE = frozenset({"canary", "parallelism"})


class RolloutStatus(str, Enum):
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"  # a wave went over its failure threshold; that wave was moved back
    ABORTED = "aborted"
    COMPLETED = "completed"
    AWAITING_APPROVAL = "awaiting_approval"  # a wave passed its gate; an operator approves the next


TERMINAL = frozenset({RolloutStatus.HALTED, RolloutStatus.ABORTED, RolloutStatus.COMPLETED})


@dataclass(frozen=True)
class Selector:
    """Which active twins a rollout moves (every field optional; all given must match)."""

    owner: str | None = None
    region: str | None = None
    runtime_target: str | None = None
    deploy_ref: str | None = None

    @classmethod
    def parse(cls, data: object) -> Selector:
        """A selector as a request gives it: every given field a string (null is not a value; leave it out)."""
        if not isinstance(data, dict) or set(data) - set(_SELECTOR_FIELDS):
            raise InvalidInput("selector", f"selector is an object with any of: {', '.join(_SELECTOR_FIELDS)}")
        if "owner" in data:
            validate_owner(data["owner"])
        region = data.get("region")
        if "region" in data and not (isinstance(region, str) and _REGION.fullmatch(region)):
            raise InvalidInput("selector.region", "selector.region must be an Azure region name such as eastus2")
        ref = data.get("deploy_ref")
        if "deploy_ref" in data and not (isinstance(ref, str) and _DEPLOY_REF.fullmatch(ref)):
            raise InvalidInput("selector.deploy_ref", "selector.deploy_ref must be a deploy_ref")
        target = data.get("runtime_target")
        if "runtime_target" in data and not isinstance(target, str):
            raise InvalidInput("selector.runtime_target", "selector.runtime_target must be a runtime target name")
        return cls(**{k: data.get(k) for k in _SELECTOR_FIELDS})


@dataclass(frozen=True)
class WavePlan:
    canary: int = 1
    growth: float = 2.0
    parallelism: int = 10
    max_failure_ratio: float = 0.0

    def wave_size(self, wave: int) -> int:
        size = self.canary * self.growth**wave
        return max(1, int(min(size, 1_000_000_000)))

    @classmethod
    def parse(cls, data: object) -> WavePlan:
        if not isinstance(data, dict) or set(data) - {"canary", "growth", "parallelism", "max_failure_ratio"}:
            raise InvalidInput("waves", "waves is an object with canary, growth, parallelism, max_failure_ratio")
        # JSON Schema (and so openapi.yaml) counts 278.0 as an integer: so do we, for the whole-number fields.
        whole = {k: int(v) if k in _WHOLE and isinstance(v, float) and v.is_integer() else v for k, v in data.items()}
        plan = cls(**whole)
        checks = (
            ("canary", isinstance(plan.canary, int) and not isinstance(plan.canary, bool) and 1 <= plan.canary <= MAX_CANARY, f"a whole number from 1 to {MAX_CANARY}"),
            ("growth", isinstance(plan.growth, (int, float)) and not isinstance(plan.growth, bool) and 1 <= plan.growth <= 10, "a number from 1 to 10"),
            ("parallelism", isinstance(plan.parallelism, int) and not isinstance(plan.parallelism, bool) and 1 <= plan.parallelism <= MAX_PARALLELISM, f"a whole number from 1 to {MAX_PARALLELISM}"),
            ("max_failure_ratio", isinstance(plan.max_failure_ratio, (int, float)) and not isinstance(plan.max_failure_ratio, bool) and 0 <= plan.max_failure_ratio <= 1, "a number from 0 to 1"),
        )  # fmt: skip
        for name, ok, what in checks:
            if not ok:
                raise InvalidInput(f"waves.{name}", f"waves.{name} must be {what}")
        return plan


@dataclass(frozen=True)
class RolloutSpec:
    """What an operator asked for; kept on the rollout's record and in its orchestration input."""

    rollout_id: str
    deploy_ref: str | None  # None: the twins keep their versions and get new settings only
    selector: Selector = field(default_factory=Selector)
    waves: WavePlan = field(default_factory=WavePlan)
    # Settings changes for every selected twin: Key Vault references, None removes (domain.app_settings).
    app_settings: dict[str, str | None] | None = None
    # Bakes, approvals and the maintenance window (controlplane.domain.rollout_gates).
    gates: RolloutGates = field(default_factory=RolloutGates)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RolloutSpec:
        return cls(
            rollout_id=data["rollout_id"],
            deploy_ref=data["deploy_ref"],
            selector=Selector(**data.get("selector") or {}),
            waves=WavePlan(**data.get("waves") or {}),
            app_settings=data.get("app_settings"),
            gates=RolloutGates.from_dict(data.get("gates")),
        )


def wave_failed(plan: WavePlan, size: int, failed: int) -> bool:
    """Over the threshold: more failures than ``max_failure_ratio`` of the wave allows."""
    return failed > plan.max_failure_ratio * size
