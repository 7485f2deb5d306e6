"""Times shown to an accountant: the client's local time, its zone named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledgerbridge.domain.clock import local_time


@pytest.mark.parametrize(
    ("moment", "timezone", "shown"),
    [
        # Winter: central European time, an hour ahead of UTC.
        (datetime(2026, 1, 15, 9, 5, tzinfo=UTC), "Europe/Paris", "2026-01-15 10:05 CET"),
        # Summer: central European summer time, two hours ahead.
        (datetime(2026, 7, 15, 9, 5, tzinfo=UTC), "Europe/Paris", "2026-07-15 11:05 CEST"),
        # Late evening in UTC is already the next day in Paris.
        (datetime(2026, 3, 20, 23, 30, tzinfo=UTC), "Europe/Paris", "2026-03-21 00:30 CET"),
        # Another zone, its own time.
        (datetime(2026, 1, 15, 9, 5, tzinfo=UTC), "America/Martinique", "2026-01-15 05:05 AST"),
    ],
)
def test_a_moment_is_shown_in_the_clients_local_time_with_its_zone(
    moment: datetime, timezone: str, shown: str
) -> None:
    assert local_time(moment, timezone) == shown
