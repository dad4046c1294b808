"""What a rollout waits for between and before its updates: bakes, approvals, maintenance windows. Pure data.

* **Bake.** After a wave's updates end and pass the failure gate, the wave bakes for
  ``bake_seconds`` (the canary for ``canary_bake_seconds``, by default twice as long): every twin it
  updated is probed every ``probe_interval_seconds``, and a twin whose readiness route leaves
  ``unanswered_probes`` probes in a row unanswered counts as failed. Where an ``error_rate`` gate is
  given, a Log Analytics query over the bake window must stay at or below its threshold.
* **Approval.** ``approve_after`` names waves ("canary" is wave 0) after whose gate the rollout stops
  in ``awaiting_approval`` until an operator approves.
* **Window.** Updates start only inside the window's hours (a time zone, days, start and end); the
  rollout waits for the next opening otherwise.

Durations are whole seconds; every time is computed from the orchestration's clock, never the wall's.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from controlplane.domain.errors import InvalidInput

MAX_BAKE_SECONDS = 7 * 24 * 3600
MIN_PROBE_INTERVAL_SECONDS = 5
MAX_QUERY_LENGTH = 4000
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WAVE_GATE_FIELDS = ("bake_seconds", "canary_bake_seconds", "approve_after")
_HOUR = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_WORKSPACE_ID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@dataclass(frozen=True)
class ErrorRateGate:
    """A KQL query over the bake window whose first row's first column is an error rate (0..1)."""

    workspace_id: str
    query: str
    threshold: float

    @classmethod
    def parse(cls, data: object) -> ErrorRateGate:
        if not isinstance(data, dict) or set(data) != {"workspace_id", "query", "threshold"}:
            raise InvalidInput("gates.error_rate", "gates.error_rate is an object with workspace_id, query, threshold")
        if not isinstance(data["workspace_id"], str) or not _WORKSPACE_ID.fullmatch(data["workspace_id"]):
            raise InvalidInput("gates.error_rate.workspace_id", "workspace_id is the Log Analytics workspace's GUID")
        query = data["query"]
        if not isinstance(query, str) or not 1 <= len(query) <= MAX_QUERY_LENGTH or "\x00" in query:
            raise InvalidInput("gates.error_rate.query", f"query is a KQL query of 1 to {MAX_QUERY_LENGTH} characters")
        threshold = data["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise InvalidInput("gates.error_rate.threshold", "threshold is an error rate from 0 to 1")
        return cls(data["workspace_id"], query, float(threshold))


@dataclass(frozen=True)
class MaintenanceWindow:
    """Hours in a time zone on some days; ``end`` before ``start`` runs past midnight (22:00-04:00)."""

    time_zone: str
    days: tuple[str, ...]
    start: str
    end: str

    @classmethod
    def parse(cls, data: object) -> MaintenanceWindow:
        if not isinstance(data, dict) or set(data) != {"time_zone", "days", "start", "end"}:
            raise InvalidInput("window", "window is an object with time_zone, days, start, end")
        try:
            if not isinstance(data["time_zone"], str) or not data["time_zone"]:
                raise ValueError
            ZoneInfo(data["time_zone"])
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long to be a file name
            raise InvalidInput(
                "window.time_zone", "window.time_zone must be an IANA time zone such as Europe/Amsterdam"
            ) from None
        days = data["days"]
        if not isinstance(days, list) or not days or not all(isinstance(d, str) and d in DAYS for d in days):
            raise InvalidInput("window.days", f"window.days is a list of {', '.join(DAYS)}")
        for name in ("start", "end"):
            if not isinstance(data[name], str) or not _HOUR.fullmatch(data[name]):
                raise InvalidInput(f"window.{name}", f"window.{name} is a time of day HH:MM (24 hours)")
        if data["start"] == data["end"]:
            raise InvalidInput("window.end", "window.end must differ from window.start")
        ordered = tuple(d for d in DAYS if d in days)
        return cls(data["time_zone"], ordered, data["start"], data["end"])

    def _clock(self, text: str) -> time:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))

    def is_open(self, moment: datetime) -> bool:
        """Open at ``moment`` (aware): a window that runs past midnight belongs to the day it opened."""
        local = moment.astimezone(ZoneInfo(self.time_zone))
        start, end, now = self._clock(self.start), self._clock(self.end), local.time()
        today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
        if start < end:
            return today in self.days and start <= now < end
        return (today in self.days and now >= start) or (yesterday in self.days and now < end)

    def next_open(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` the window is open (UTC), found minute by minute's edges."""
        if self.is_open(moment):
            return moment
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            opening = datetime.combine(day, self._clock(self.start), tzinfo=zone)
            if DAYS[day.weekday()] in self.days and opening >= local:
                return opening.astimezone(moment.tzinfo)
        raise AssertionError("a window with at least one day opens within a week")  # parse() ensures a day


@dataclass(frozen=True)
class RolloutGates:
    bake_seconds: int = 0
    canary_bake_seconds: int | None = None  # None: twice bake_seconds
    approve_after: tuple[int, ...] = ()
    probe_interval_seconds: int = 30
    unanswered_probes: int = 2
    error_rate: ErrorRateGate | None = None
    window: MaintenanceWindow | None = None

    def bake_for(self, wave: int) -> int:
        if wave == 0:
            return self.canary_bake_seconds if self.canary_bake_seconds is not None else 2 * self.bake_seconds
        return self.bake_seconds

    def needs_approval_after(self, wave: int) -> bool:
        return wave in self.approve_after

    @classmethod
    def parse(cls, wave_fields: dict[str, Any], gates: object, window: object) -> RolloutGates:
        """From the ``waves`` fields of WAVE_GATE_FIELDS, the ``gates`` object and the ``window`` object."""
        bake = wave_fields.get("bake_seconds", 0)
        if not _whole(bake, 0, MAX_BAKE_SECONDS):
            raise InvalidInput(
                "waves.bake_seconds", f"waves.bake_seconds must be a whole number from 0 to {MAX_BAKE_SECONDS}"
            )
        canary = wave_fields.get("canary_bake_seconds")
        if canary is not None and not _whole(canary, 0, MAX_BAKE_SECONDS):
            raise InvalidInput(
                "waves.canary_bake_seconds",
                f"waves.canary_bake_seconds must be a whole number from 0 to {MAX_BAKE_SECONDS}",
            )
        approve = wave_fields.get("approve_after", [])
        if not isinstance(approve, list) or len(approve) > 100:
            raise InvalidInput("waves.approve_after", 'waves.approve_after is a list of wave indexes or "canary"')
        waves = []
        for item in approve:
            if item == "canary":
                waves.append(0)
            elif _whole(item, 0, 1000):
                waves.append(item)
            else:
                raise InvalidInput(
                    "waves.approve_after", 'waves.approve_after holds wave indexes (0 to 1000) or "canary"'
                )
        if gates is None:
            gates = {}
        if not isinstance(gates, dict) or set(gates) - {"probe_interval_seconds", "unanswered_probes", "error_rate"}:
            raise InvalidInput(
                "gates", "gates is an object with any of probe_interval_seconds, unanswered_probes, error_rate"
            )
        interval = gates.get("probe_interval_seconds", 30)
        if not _whole(interval, MIN_PROBE_INTERVAL_SECONDS, 3600):
            raise InvalidInput(
                "gates.probe_interval_seconds",
                f"gates.probe_interval_seconds must be from {MIN_PROBE_INTERVAL_SECONDS} to 3600",
            )
        misses = gates.get("unanswered_probes", 2)
        if not _whole(misses, 1, 100):
            raise InvalidInput(
                "gates.unanswered_probes", "gates.unanswered_probes must be a whole number from 1 to 100"
            )
        error_rate = ErrorRateGate.parse(gates["error_rate"]) if gates.get("error_rate") is not None else None
        return cls(
            bake_seconds=bake, canary_bake_seconds=canary, approve_after=tuple(sorted(set(waves))),
            probe_interval_seconds=interval, unanswered_probes=misses, error_rate=error_rate,
            window=MaintenanceWindow.parse(window) if window is not None else None,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RolloutGates:
        if not data:
            return cls()
        error_rate, window = data.get("error_rate"), data.get("window")
        return cls(
            bake_seconds=data.get("bake_seconds", 0), canary_bake_seconds=data.get("canary_bake_seconds"),
            approve_after=tuple(data.get("approve_after") or ()),
            probe_interval_seconds=data.get("probe_interval_seconds", 30),
            unanswered_probes=data.get("unanswered_probes", 2),
            error_rate=ErrorRateGate(**error_rate) if error_rate else None,
            window=MaintenanceWindow(**{**window, "days": tuple(window["days"])}) if window else None,
        )  # fmt: skip


@dataclass(frozen=True)
class Hold:
    """A twin pinned at its version: rollouts pass it by and an update of it is refused, until lifted or expired."""

    reason: str
    by: str
    at: str
    until: str | None = None  # ISO UTC; None: until lifted

    def active(self, now: datetime) -> bool:
        return self.until is None or datetime.fromisoformat(self.until) > now


def parse_hold(body: dict[str, Any], *, by: str, now: datetime) -> Hold:
    unknown = sorted(set(body) - {"reason", "until"})
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field '{unknown[0]}'; a hold takes reason and until")
    reason = body.get("reason")
    if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 500:
        raise InvalidInput("reason", "reason says why the twin is held (1 to 500 characters)")
    until = body.get("until")
    if until is not None:
        try:
            moment = datetime.fromisoformat(until) if isinstance(until, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise InvalidInput("until", "until is an ISO 8601 time with its offset, e.g. 2026-12-31T00:00:00Z")
        if moment <= now:
            raise InvalidInput("until", "until must be in the future")
        until = moment.astimezone(now.tzinfo).isoformat()
    return Hold(reason=reason.strip(), by=by, at=now.isoformat(), until=until)


def hold_of(data: dict[str, Any] | None) -> Hold | None:
    if not data:
        return None
    return Hold(reason=data["reason"], by=data["by"], at=data["at"], until=data.get("until"))
