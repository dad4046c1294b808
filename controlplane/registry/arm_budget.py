"""The shared copy of ARM's buckets: one Table Storage entity per subscription and bucket, under ETags.

Every instance of the control plane reserves ARM requests from the same entity
(``~armbudget|<subscription>`` / ``writes`` or ``deletes``, in the registry's meta table), so the
budget is fleet-wide however many instances the platform runs. The entity holds one number, the
bucket's TAT (``controlplane.domain.write_budget``); a reservation reads it, computes, and writes it
back only if nobody else wrote in between (If-Match). A lost race re-reads and decides again.

Cheap by construction: the last entity read (and its ETag) is kept, so an uncontended reservation
is one conditional write; a refusal computed from the kept copy needs no call at all (TAT only grows,
so a stale copy can only under-state how busy the bucket is, never over-state it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from controlplane.domain.write_budget import BucketShape, Refusal, Reservation, reserve
from controlplane.registry.etag_retry import RETRY, Retry, with_etag_retries

PREFIX = "~armbudget|"


@dataclass(frozen=True)
class _Copy:
    tat: float
    etag: str | None  # None: the entity did not exist when read


class BudgetStore:
    """Reservations against the shared buckets; counts its own storage operations and the tokens it
    booked (for the bench: booked over spent shows what leases let go unspent)."""

    def __init__(self, table: TableClient) -> None:
        self._table = table
        self._copies: dict[tuple[str, str], _Copy] = {}
        self._lock = threading.Lock()
        self.operations = 0
        self.tokens_booked = 0

    def reserve(
        self, subscription_id: str, bucket: str, count: int, *, now: float, shape: BucketShape, horizon: float
    ) -> Reservation | Refusal:
        key = (subscription_id.lower(), bucket)
        fresh = False

        def attempt() -> Reservation | Refusal | Retry:
            nonlocal fresh
            copy = self._copies.get(key)
            if copy is None:
                copy, fresh = self._read(key), True
            decision = reserve(copy.tat, now, count, shape, horizon)
            if isinstance(decision, Refusal):
                if fresh:
                    return decision
                self._copies.pop(key, None)  # refused on a kept copy: make sure on a fresh one
                return RETRY
            if self._write(key, copy, decision.tat):
                with self._lock:
                    self.tokens_booked += count
                return decision
            self._copies.pop(key, None)  # someone else reserved in between: read again
            return RETRY

        decided: Reservation | Refusal = with_etag_retries(  # type: ignore[assignment]  # T from a union
            attempt, gave_up=f"the ARM budget of {subscription_id} kept changing"
        )
        return decided

    def backlog_seconds(self, subscription_id: str, bucket: str, *, now: float) -> float:
        """How far ahead of ``now`` the bucket is booked (its TAT less now): 0 for a full bucket."""
        return max(0.0, self._read((subscription_id.lower(), bucket)).tat - now)

    def _read(self, key: tuple[str, str]) -> _Copy:
        self._count()
        try:
            entity = self._table.get_entity(PREFIX + key[0], key[1])
        except ResourceNotFoundError:
            return _Copy(tat=0.0, etag=None)
        return _Copy(tat=float(entity["tat"]), etag=entity.metadata["etag"])

    def _write(self, key: tuple[str, str], copy: _Copy, tat: float) -> bool:
        self._count()
        entity = {"PartitionKey": PREFIX + key[0], "RowKey": key[1], "tat": tat}
        try:
            if copy.etag is None:
                written = self._table.create_entity(entity)
            else:
                written = self._table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=copy.etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError):
            return False
        self._copies[key] = _Copy(tat=tat, etag=written["etag"])
        return True

    def _count(self) -> None:
        with self._lock:
            self.operations += 1
