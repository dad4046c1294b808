"""Reading Retry-After: both forms HTTP allows, and nonsense ignored rather than obeyed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from twinctl.api import parse_retry_after

NOW = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param("10", 10.0, id="delta-seconds"),
        pytest.param(" 2.5 ", 2.5, id="fractional"),
        pytest.param("Mon, 23 Nov 2026 09:00:30 GMT", 30.0, id="http-date"),
        pytest.param("Mon, 23 Nov 2026 08:59:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param("-5", 0.0, id="negative"),
        pytest.param(None, None, id="absent"),
        pytest.param("soon", None, id="unreadable"),
        pytest.param("inf", None, id="infinite"),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds
