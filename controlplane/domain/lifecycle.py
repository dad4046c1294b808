"""The brainstem state machine: which status may follow which.

    provisioning -> active | errored | deleting
    errored      -> provisioning (POST again re-provisions) | deleting
    active       -> updating (new code or settings) | deleting
    updating     -> active (updated, or rolled back with the error recorded) | errored | deleting
    deleting     -> deleted | errored
    deleted      -> provisioning (the name is provisioned anew)
    active | errored -> missing (the reconcile found its resource group or site gone from Azure)
    missing      -> active (its resources are back) | provisioning (POST again rebuilds it) | deleting

``missing`` is set only by the reconcile (orchestrators/reconcile.py), which never changes Azure: it
tells the owner and the operator that what the row describes no longer exists.

``deleted`` rows are kept: they are the fleet's history. Nothing ever leaves ``deleted`` except a
fresh provision, so a late "mark active" from a stale job cannot resurrect a torn-down twin.
"""

from __future__ import annotations

from enum import Enum

from controlplane.domain.errors import IllegalTransition


class Status(str, Enum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    UPDATING = "updating"
    ERRORED = "errored"
    DELETING = "deleting"
    DELETED = "deleted"
    MISSING = "missing"

    def __str__(self) -> str:
        return self.value


ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PROVISIONING: frozenset({Status.ACTIVE, Status.ERRORED, Status.DELETING}),
    Status.ACTIVE: frozenset({Status.UPDATING, Status.DELETING, Status.MISSING}),
    Status.UPDATING: frozenset({Status.ACTIVE, Status.ERRORED, Status.DELETING}),
    Status.ERRORED: frozenset({Status.PROVISIONING, Status.DELETING, Status.MISSING}),
    Status.DELETING: frozenset({Status.DELETED, Status.ERRORED}),
    Status.DELETED: frozenset({Status.PROVISIONING}),
    Status.MISSING: frozenset({Status.ACTIVE, Status.PROVISIONING, Status.DELETING}),
}

# Statuses in which a twin holds (or may hold) Azure resources: they count against quotas.
# A missing twin keeps its places: its owner decides whether to rebuild it (POST) or delete the row.
LIVE_STATUSES = frozenset(
    {Status.PROVISIONING, Status.ACTIVE, Status.UPDATING, Status.ERRORED, Status.DELETING, Status.MISSING}
)
# Statuses in which a job is changing the twin's resources: a teardown waits for that job first.
BUSY_STATUSES = frozenset({Status.PROVISIONING, Status.UPDATING})


def check_transition(cloud_id: str, current: Status, target: Status) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
        raise IllegalTransition(
            f"{cloud_id} is {current.value}; it cannot become {target.value} (from {current.value} only: {allowed})",
            cloud_id=cloud_id,
            current_status=current.value,
        )
