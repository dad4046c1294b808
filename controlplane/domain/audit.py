"""An audit record: one accepted change to the fleet — who, what, which twin or rollout, when, which request.

Pure data, no Azure. ``principal`` is the caller's origin as the refusal log names it (an owner id, or
``operator(<via>: <subject_hint>)``: issuer host, key id, key slot) — never a token, key or claim
value. ``owner`` is the twin's owner (None for fleet-wide records such as rollouts), which decides
who may read the record. ``detail`` holds a few plain fields the route chose (a deploy_ref, a setting
*name*), never a setting's value or a request body.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"
    REPAIR = "repair"
    HOLD = "hold"
    RELEASE = "release"
    ROLLOUT_START = "rollout_start"
    ROLLOUT_CONTROL = "rollout_control"
    ADOPT = "adopt"

    def __str__(self) -> str:
        return self.value


class TargetKind(str, Enum):
    BRAINSTEM = "brainstem"
    ROLLOUT = "rollout"
    ADOPTION = "adoption"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class AuditRecord:
    request_id: str
    occurred_at: str  # the registry's fixed-width ISO format, so records order as strings do
    action: Action
    target_kind: TargetKind
    target: str  # a cloud_id, rollout id or adoption job id
    principal: str
    owner: str | None = None
    job_id: str | None = None
    detail: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["action"], body["target_kind"] = self.action.value, self.target_kind.value
        return body
