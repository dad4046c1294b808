"""Rollouts in Table Storage: one record per rollout, one entity per twin it touched.

    PartitionKey          RowKey         entity
    rollout               <rollout_id>   the record: spec, status, control, per-wave counts
    rollout|<rollout_id>  <cloud_id>     one twin: wave, state (started/succeeded/failed/skipped/held/
                                         bake_failed/rolling_back/rolled_back/...), its update job,
                                         its previous deploy_ref, the error, a bake's unanswered probes
    rollout|<rollout_id>|...             copies of the twin where each look finds it by key
                                         (controlplane.registry.rollout_looks)

The per-twin entities are what let a rollout of 100,000 twins keep a small orchestration history:
the orchestration carries only the current wave's counters and a cursor; which twins a wave moved
(to move them back) and each failure's error live here. Counters are written under the record's
ETag (the one ETag loop), so a retried activity never counts a twin twice: a twin's state entity
is written first, and a count moves only when that entity changed. Counters only grow: a twin
that succeeded and was then moved back counts once in each. A batch adds its counts in one write
after its twins' entities; an attempt that dies between the two leaves a counter short until the
rollout ends, when every counter is recounted from the twins' entities.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from controlplane.domain.errors import ControlPlaneError, RolloutNotRunning
from controlplane.domain.rollouts import TERMINAL, RolloutSpec, RolloutStatus
from controlplane.domain.twin import utc_now
from controlplane.registry import rollout_looks
from controlplane.registry.entities import odata_str
from controlplane.registry.etag_retry import RETRY, Retry, with_etag_retries
from controlplane.registry.rollout_windows import RolloutWindows

RECORD_PARTITION = "rollout"
TWIN_PARTITION = "rollout|"
COUNTERS = ("selected", "succeeded", "failed", "skipped", "rolled_back", "rollback_failed", "held")
# The counter a twin's move into each state adds one to (in-flight states add to none) ...
_MOVES: dict[str, str] = {
    "started": "selected", "succeeded": "succeeded", "failed": "failed", "skipped": "skipped",
    "rolled_back": "rolled_back", "rollback_failed": "rollback_failed", "held": "held",
    "bake_failed": "failed",  # a twin that stopped answering during its wave's bake
}  # fmt: skip
# ... and, for a recount, every counter a twin now in each state has been counted in on its way there.
_COUNTED_AS: dict[str | None, tuple[str, ...]] = {
    "started": ("selected",), "succeeded": ("selected", "succeeded"), "failed": ("selected", "failed"),
    "skipped": ("skipped",), "rolling_back": ("selected", "succeeded"), "rollback_skipped": ("selected", "succeeded"),
    "rolled_back": ("selected", "succeeded", "rolled_back"),
    "rollback_failed": ("selected", "succeeded", "rollback_failed"),
    "held": ("held",), "bake_failed": ("selected", "succeeded"),  # a bake failure adds "failed": see recount
    "queued": (),  # taken by its wave, waiting for a place in its subscription's window
}  # fmt: skip


def counter_moves(state: str) -> dict[str, int]:
    return {_MOVES[state]: 1} if state in _MOVES else {}


class RolloutNotFound(ControlPlaneError):
    status = 404
    type = "not-found"
    title = "Not found"


class RolloutNotAwaiting(ControlPlaneError):
    status = 409
    type = "not-awaiting-approval"
    title = "Rollout not awaiting approval"


class RolloutStore:
    def __init__(self, table: TableClient) -> None:
        self._table = table
        self.windows = RolloutWindows(table, TWIN_PARTITION)

    def create_table(self) -> None:
        try:
            self._table.create_table()
        except ResourceExistsError:
            pass

    def create(self, spec: RolloutSpec, *, created_by: str) -> dict[str, Any]:
        now = utc_now()
        record = {
            "PartitionKey": RECORD_PARTITION, "RowKey": spec.rollout_id, "spec": json.dumps(spec.to_dict()),
            "status": RolloutStatus.RUNNING.value, "control": "run", "wave": 0, "waves": "[]",
            "created_at": now, "updated_at": now, "created_by": created_by, "message": "",
        }  # fmt: skip
        self._table.create_entity(record)
        return view(record)

    def get(self, rollout_id: str) -> dict[str, Any]:
        return view(self._entity(rollout_id))

    def list_rollouts(self) -> list[dict[str, Any]]:
        entities = self._table.query_entities(f"PartitionKey eq '{RECORD_PARTITION}'")
        return sorted((view(e) for e in entities), key=lambda r: r["created_at"], reverse=True)

    def set_control(self, rollout_id: str, control: str) -> dict[str, Any]:
        """Set the operator's control; RolloutNotRunning once the rollout has ended (checked under the ETag,
        so a rollout that ends meanwhile is never steered)."""

        def change(record: dict[str, Any]) -> None:
            if RolloutStatus(record["status"]) in TERMINAL:
                raise RolloutNotRunning(f"rollout {rollout_id} has ended ({record['status']})", rollout_id=rollout_id)
            record.update(control=control)

        return self._change(rollout_id, change)

    def set_status(
        self, rollout_id: str, status: RolloutStatus, message: str = "", *, awaiting_wave: int | None = None
    ) -> dict[str, Any]:
        """Set the status; an ended rollout's counters are recounted from its twins, so they end exact.
        ``awaiting_wave``: with ``awaiting_approval``, the wave whose approval the rollout waits for."""
        waves = self.recount(rollout_id) if status in TERMINAL else None

        def change(record: dict[str, Any]) -> None:
            record.update(status=status.value, message=message)
            if status == RolloutStatus.AWAITING_APPROVAL:
                record["awaiting_wave"] = awaiting_wave
            else:
                record.pop("awaiting_wave", None)
            if waves is not None:
                record["waves"] = json.dumps(waves)

        return self._change(rollout_id, change)

    def approve(self, rollout_id: str, *, by: str) -> dict[str, Any]:
        """Record an operator's approval of the wave the rollout waits on (409 unless it waits)."""

        def change(record: dict[str, Any]) -> None:
            if record["status"] != RolloutStatus.AWAITING_APPROVAL.value or record.get("awaiting_wave") is None:
                raise RolloutNotAwaiting(
                    f"rollout {rollout_id} is {record['status']}, not awaiting_approval; nothing to approve",
                    rollout_id=rollout_id,
                )
            approvals = json.loads(record.get("approvals") or "[]")
            wave = int(record["awaiting_wave"])
            if all(a["wave"] != wave for a in approvals):
                approvals.append({"wave": wave, "by": by, "at": utc_now()})
            record["approvals"] = json.dumps(approvals)

        return self._change(rollout_id, change)

    def recount(self, rollout_id: str) -> list[dict[str, int]]:
        """Every wave's counters, from the twins' entities (one query of the rollout's partition)."""
        waves: list[dict[str, int]] = []
        for entity in self._table.query_entities(f"PartitionKey eq '{TWIN_PARTITION}{rollout_id}'"):
            wave, state = int(entity["wave"]), entity.get("state")
            while len(waves) <= wave:
                waves.append({"wave": len(waves), **dict.fromkeys(COUNTERS, 0)})
            for counter in _COUNTED_AS.get(state, ()):
                waves[wave][counter] += 1
            if entity.get("bake_failed"):  # kept on the twin when it is then moved back
                waves[wave]["failed"] += 1
        return waves

    def record_twin(
        self, rollout_id: str, wave: int, cloud_id: str, state: str, *, count: bool = True, **fields: Any
    ) -> bool:
        """Set one twin's state; True when it changed. ``count``: also move its wave's counter now
        (a batch passes False and adds its counts once, with ``add_counts``)."""
        key = {"PartitionKey": TWIN_PARTITION + rollout_id, "RowKey": cloud_id}
        current: dict[str, Any] | None = None
        try:
            current = dict(self._table.get_entity(key["PartitionKey"], cloud_id))
            if current.get("state") == state:
                return False
        except ResourceNotFoundError:
            pass
        entity = {**key, "wave": wave, "state": state, "at": utc_now()}
        for name, value in fields.items():
            if value is not None:
                entity[name] = json.dumps(value) if isinstance(value, dict) else value
        # The copies the looks read by key first, the twin's own entity last (controlplane.registry.rollout_looks).
        rollout_looks.write_copies(self._table, current, {**(current or {}), **entity})
        self._table.upsert_entity(entity, mode=UpdateMode.MERGE)
        if count:
            self.add_counts(rollout_id, wave, counter_moves(state))
        return True

    def add_counts(self, rollout_id: str, wave: int, moves: dict[str, int]) -> None:
        """Add ``moves`` to a wave's counters (one ETag-guarded write for a whole batch)."""
        if not any(moves.values()):
            return

        def change(record: dict[str, Any]) -> None:
            waves = json.loads(record["waves"])
            while len(waves) <= wave:
                waves.append({"wave": len(waves), **dict.fromkeys(COUNTERS, 0)})
            for counter, amount in moves.items():
                waves[wave][counter] += amount
            record.update(waves=json.dumps(waves), wave=max(int(record.get("wave", 0)), wave))

        self._change(rollout_id, change)

    def twins(
        self, rollout_id: str, *, wave: int, state: str, fields: tuple[str, ...] = ("job_id", "previous_deploy_ref")
    ) -> Iterator[dict[str, Any]]:
        """A wave's twins in one state: their own partition, read by key."""
        partition = rollout_looks.state_partition(TWIN_PARTITION + rollout_id, wave, state)
        for entity in list(self._table.query_entities(f"PartitionKey eq {odata_str(partition)}")):
            yield {"cloud_id": entity["RowKey"], **{k: entity.get(k) for k in fields}}

    def twins_page(
        self, rollout_id: str, *, wave: int, state: str, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` of a wave's twins in one state, in cloud_id order after ``after`` (a bake's page)."""
        partition = rollout_looks.state_partition(TWIN_PARTITION + rollout_id, wave, state)
        query = f"PartitionKey eq {odata_str(partition)}"
        if after is not None:
            query += f" and RowKey gt {odata_str(after)}"
        found: list[dict[str, Any]] = []
        for entity in self._table.query_entities(query, results_per_page=limit):
            found.append({"cloud_id": entity["RowKey"], "bake_misses": int(entity.get("bake_misses") or 0)})
            if len(found) >= limit:
                break
        return found

    def set_fields(self, rollout_id: str, cloud_id: str, **fields: Any) -> None:
        """Merge small fields into one twin's entity and its copies (a bake's count of unanswered probes)."""
        try:
            current = self._table.get_entity(TWIN_PARTITION + rollout_id, cloud_id)
        except ResourceNotFoundError:
            current = None
        if current is not None:
            rollout_looks.merge_into_copies(self._table, current, fields)
        entity = {"PartitionKey": TWIN_PARTITION + rollout_id, "RowKey": cloud_id, **fields}
        self._table.upsert_entity(entity, mode=UpdateMode.MERGE)

    def batch_twins(self, rollout_id: str, wave: int, batch: int) -> list[dict[str, Any]]:
        """The twins this batch took (started, queued, skipped, held), and whether from the walk or a queue."""
        partition = rollout_looks.batch_partition(TWIN_PARTITION + rollout_id, wave, batch)
        query = f"PartitionKey eq {odata_str(partition)}"
        entities = self._table.query_entities(query, select=["RowKey", "state", "origin"])
        return [{"cloud_id": e["RowKey"], "state": e.get("state"), "origin": e.get("origin")} for e in entities]

    def failures(self, rollout_id: str, limit: int = 100) -> list[dict[str, Any]]:
        query = f"PartitionKey eq {odata_str(rollout_looks.failures_partition(TWIN_PARTITION + rollout_id))}"
        found = []
        for entity in self._table.query_entities(query, results_per_page=limit):
            error = entity.get("error")
            found.append({"cloud_id": entity["RowKey"], "wave": entity.get("wave"), "job_id": entity.get("job_id"),
                          "error": json.loads(error) if error else None})  # fmt: skip
            if len(found) >= limit:
                break
        return found

    def _entity(self, rollout_id: str) -> Any:
        try:
            return self._table.get_entity(RECORD_PARTITION, rollout_id)
        except ResourceNotFoundError:
            raise RolloutNotFound(f"no rollout {rollout_id}", rollout_id=rollout_id) from None

    def _change(self, rollout_id: str, change: Any) -> dict[str, Any]:
        def attempt() -> dict[str, Any] | Retry:
            entity = self._entity(rollout_id)
            record = dict(entity)
            change(record)
            record["updated_at"] = utc_now()
            try:
                self._table.update_entity(
                    record, mode=UpdateMode.REPLACE, etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )  # fmt: skip
            except ResourceModifiedError:
                return RETRY
            return view(record)

        return with_etag_retries(attempt, gave_up=f"rollout {rollout_id} kept changing; try again")


def view(record: Any) -> dict[str, Any]:
    """The API's view of a rollout record."""
    return {
        "rollout_id": record["RowKey"],
        "status": record["status"],
        "control": record.get("control", "run"),
        "wave": int(record.get("wave", 0)),
        "waves": json.loads(record.get("waves") or "[]"),
        "spec": json.loads(record["spec"]),
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
        "created_by": record.get("created_by"),
        "message": record.get("message") or "",
        "awaiting_wave": record.get("awaiting_wave"),
        "approvals": json.loads(record.get("approvals") or "[]"),
    }
