"""Times shown to an accountant: the client's local time, its zone named."""

from __future__ import annotations

from datetime import UTC, datetime

from ledgerbridge.domain.clock import local_time


def test_a_winter_moment_is_shown_in_central_european_time() -> None:
    assert local_time(datetime(2026, 1, 15, 9, 5, tzinfo=UTC), "Europe/Paris") == (
        "2026-01-15 10:05 CET"
    )


def test_a_summer_moment_is_shown_in_central_european_summer_time() -> None:
    assert local_time(datetime(2026, 7, 15, 9, 5, tzinfo=UTC), "Europe/Paris") == (
        "2026-07-15 11:05 CEST"
    )


def test_late_evening_in_utc_is_already_the_next_day_in_paris() -> None:
    assert local_time(datetime(2026, 3, 20, 23, 30, tzinfo=UTC), "Europe/Paris") == (
        "2026-03-21 00:30 CET"
    )


def test_another_zone_is_shown_in_its_own_time() -> None:
    assert local_time(datetime(2026, 1, 15, 9, 5, tzinfo=UTC), "America/Martinique") == (
        "2026-01-15 05:05 AST"
    )
