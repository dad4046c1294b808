"""ARM's token bucket as arithmetic: when may ``count`` more requests go, and what that leaves.

ARM throttles each subscription with token buckets (writes 200 refilled at 10/s, deletes 200 at
10/s; Learn: "Understand how Azure Resource Manager throttles requests"). The control plane keeps
its own copy of each bucket, a little smaller, shared by every instance, so that it spends less than
ARM grants and never meets a 429. The copy is one number, the Generic Cell Rate Algorithm's
*theoretical arrival time* (TAT): the moment the bucket would be full again if nothing more were
taken. One number means one small Table Storage entity, updated under its ETag.

A reservation is taken *now* for requests that may go at ``start`` (possibly in the future): the
caller waits (a durable timer) until then. Reservations only ever move TAT forward, so a copy of it
read earlier is never ahead of the truth — a refusal computed from a stale copy is a refusal the
fresh one would also give.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BucketShape:
    """A token bucket: ``burst`` tokens, refilled at ``rate`` per second."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one token")


@dataclass(frozen=True)
class Reservation:
    """``count`` tokens that may be spent from ``start`` on; ``tat`` is the bucket's new state."""

    start: float
    tat: float


@dataclass(frozen=True)
class Refusal:
    """Nothing taken: the earliest start is beyond the caller's horizon; ask again at ``retry_at``."""

    retry_at: float


def reserve(tat: float, now: float, count: int, shape: BucketShape, horizon: float) -> Reservation | Refusal:
    """Take ``count`` tokens at the earliest moment the bucket holds them, unless that is over ``horizon`` away.

    With TAT the time the bucket is full again, it holds ``burst - (TAT - t) * rate`` tokens at ``t``;
    ``count`` of them are there from ``TAT - (burst - count) / rate`` on. Taking them moves TAT on by
    ``count / rate`` from wherever it stood (or from ``start``, if the bucket had filled up by then).
    """
    if count < 1:
        raise ValueError("reserve at least one token")
    if count > shape.burst:
        raise ValueError(f"{count} tokens can never be in a bucket of {shape.burst:g}")
    start = max(now, tat - (shape.burst - count) / shape.rate)
    if start - now > horizon:
        return Refusal(retry_at=start - horizon)
    return Reservation(start=start, tat=max(tat, start) + count / shape.rate)
