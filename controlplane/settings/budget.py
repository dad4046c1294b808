"""Settings of the ARM budget (``controlplane.arm.write_budget`` and ``fleet_budget``).

ARM grants each subscription 10 writes/s (200 burst) and 10 deletes/s (200 burst); Learn:
"Understand how Azure Resource Manager throttles requests". The defaults spend a little less, so
that clock skew between instances and requests ARM counts that we do not (the portal, other tools)
still leave room.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field


def _field(name: str, default: float, *, gt: float = 0, le: float = 100_000) -> float:
    return Field(default=default, gt=gt, le=le, validation_alias=AliasChoices(name))


class BudgetSettings(BaseModel):
    # "fleet": one budget per subscription shared by every instance (Table Storage, the default);
    # "process": each process its own (only right for a single instance; kept for comparison).
    arm_write_budget: Literal["fleet", "process"] = Field(
        default="fleet", validation_alias=AliasChoices("CP_ARM_WRITE_BUDGET")
    )
    arm_writes_per_second: float = _field("CP_ARM_WRITES_PER_SECOND", 9.5, le=10_000)
    arm_write_burst: int = Field(default=190, ge=1, le=100_000, validation_alias=AliasChoices("CP_ARM_WRITE_BURST"))
    arm_deletes_per_second: float = _field("CP_ARM_DELETES_PER_SECOND", 9.5, le=10_000)
    arm_delete_burst: int = Field(default=190, ge=1, le=100_000, validation_alias=AliasChoices("CP_ARM_DELETE_BURST"))
    # How far ahead a reservation may book the bucket: single-twin work and creates (interactive),
    # and rollout waves (bulk), which book only a little so that interactive work never queues
    # behind a whole rollout.
    arm_budget_horizon_seconds: float = _field("CP_ARM_BUDGET_HORIZON_SECONDS", 900, le=86_400)
    arm_budget_bulk_horizon_seconds: float = _field("CP_ARM_BUDGET_BULK_HORIZON_SECONDS", 20, le=86_400)
    # Tokens an instance leases from the shared bucket at a time (its storage cost per ARM request is
    # about one over this), and how long after they come due an unspent lease or grant stays good.
    arm_budget_block: int = Field(default=10, ge=1, le=200, validation_alias=AliasChoices("CP_ARM_BUDGET_BLOCK"))
    arm_budget_grace_seconds: float = _field("CP_ARM_BUDGET_GRACE_SECONDS", 30, le=3_600)
