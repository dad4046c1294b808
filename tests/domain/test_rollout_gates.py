"""The rules of a rollout's gates: windows in a time zone, bakes, approvals, holds (pure, no clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from controlplane.domain.errors import InvalidInput
from controlplane.domain.rollout_gates import MaintenanceWindow, RolloutGates, parse_hold


def window(**changes: object) -> MaintenanceWindow:
    data = {"time_zone": "Europe/Amsterdam", "days": ["sat", "sun"], "start": "22:00", "end": "04:00", **changes}
    return MaintenanceWindow.parse(data)


def test_a_window_past_midnight_belongs_to_the_day_it_opened() -> None:
    nightly = window()
    # Saturday 2030-01-05 23:30 in Amsterdam (UTC+1) is 22:30 UTC: open.
    assert nightly.is_open(datetime(2030, 1, 5, 22, 30, tzinfo=UTC))
    # Monday 01:00 local is Sunday's window running past midnight: open; Monday 05:00: closed.
    assert nightly.is_open(datetime(2030, 1, 7, 0, 0, tzinfo=UTC))
    assert not nightly.is_open(datetime(2030, 1, 7, 4, 0, tzinfo=UTC))
    # Saturday 01:00 local belongs to Friday, which is not a window day.
    assert not nightly.is_open(datetime(2030, 1, 5, 0, 0, tzinfo=UTC))


def test_the_next_opening_is_the_next_window_day_at_its_start_in_its_time_zone() -> None:
    # Tuesday 2030-01-01 00:00 UTC: the next opening is Saturday 22:00 Amsterdam = 21:00 UTC.
    assert window().next_open(datetime(2030, 1, 1, tzinfo=UTC)) == datetime(2030, 1, 5, 21, 0, tzinfo=UTC)
    # Summer time moves the UTC hour: 2030-06-29 (a Saturday) 22:00 CEST is 20:00 UTC.
    assert window().next_open(datetime(2030, 6, 25, tzinfo=UTC)) == datetime(2030, 6, 29, 20, 0, tzinfo=UTC)
    inside = datetime(2030, 1, 5, 22, 30, tzinfo=UTC)
    assert window().next_open(inside) == inside


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "window.time_zone"),
        ({"time_zone": "../../etc/passwd"}, "window.time_zone"),
        ({"time_zone": "Zalgo " * 60}, "window.time_zone"),  # found by the fuzz: ZoneInfo raised OSError
        ({"days": []}, "window.days"),
        ({"days": ["funday"]}, "window.days"),
        ({"start": "24:00"}, "window.start"),
        ({"end": "22:00"}, "window.end"),
    ],
    ids=["unknown-zone", "path-as-zone", "too-long-zone", "no-days", "bad-day", "bad-hour", "empty-window"],
)
def test_a_window_that_cannot_open_is_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        window(**changes)
    assert refused.value.field == field


def test_the_canary_bakes_twice_as_long_unless_told_and_approvals_name_waves() -> None:
    gates = RolloutGates.parse({"bake_seconds": 300, "approve_after": ["canary", 2]}, None, None)
    assert (gates.bake_for(0), gates.bake_for(1), gates.approve_after) == (600, 300, (0, 2))
    assert RolloutGates.parse({"bake_seconds": 300, "canary_bake_seconds": 60}, None, None).bake_for(0) == 60
    assert RolloutGates().bake_for(0) == 0  # no bake unless asked: the bench's rollouts bake for 0
    assert RolloutGates.from_dict(gates.to_dict()) == gates
    with pytest.raises(InvalidInput):
        RolloutGates.parse({"approve_after": ["growth"]}, None, None)
    with pytest.raises(InvalidInput):
        RolloutGates.parse({}, {"probe_interval_seconds": 1}, None)


def test_a_hold_needs_a_reason_and_a_future_expiry_with_its_offset() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    hold = parse_hold({"reason": "customer demo", "until": "2030-01-02T00:00:00+01:00"}, by="api-key:op", now=now)
    assert hold.until == "2030-01-01T23:00:00+00:00" and hold.active(now)
    assert not hold.active(datetime(2030, 1, 2, tzinfo=UTC))
    for body in ({}, {"reason": " "}, {"reason": "x", "until": "2029-01-01T00:00:00Z"},
                 {"reason": "x", "until": "2030-02-01T00:00:00"}, {"reason": "x", "extra": 1}):  # fmt: skip
        with pytest.raises(InvalidInput):
            parse_hold(body, by="api-key:op", now=now)
