"""The fiscal-period warning: no open year covering today, more than two open, a gap."""

from __future__ import annotations

from datetime import date

import msgspec

from ledgerbridge.domain.fiscal_period import fiscal_period_problems
from ledgerbridge.domain.setup import FiscalYear


def year(code: str, start: str, end: str, status: str = "open") -> FiscalYear:
    return msgspec.convert({"code": code, "start": start, "end": end, "status": status}, FiscalYear)


def codes(years: list[FiscalYear], today: date) -> list[str]:
    return [problem.code for problem in fiscal_period_problems(years, today)]


def test_two_consecutive_open_years_covering_today_raise_no_warning() -> None:
    years = [year("2025", "2025-01-01", "2025-12-31"), year("2026", "2026-01-01", "2026-12-31")]
    assert codes(years, date(2026, 11, 25)) == []


def test_no_open_year_covering_today_is_warned() -> None:
    years = [
        year("2025", "2025-01-01", "2025-12-31"),
        year("2026", "2026-01-01", "2026-12-31", "closed"),
    ]
    assert codes(years, date(2026, 1, 1)) == ["no_open_year_covers_today"]


def test_today_on_the_last_day_of_an_open_year_is_covered() -> None:
    assert codes([year("2026", "2026-01-01", "2026-12-31")], date(2026, 12, 31)) == []


def test_three_open_years_are_too_many() -> None:
    years = [
        year("2024", "2024-01-01", "2024-12-31"),
        year("2025", "2025-01-01", "2025-12-31"),
        year("2026", "2026-01-01", "2026-12-31"),
    ]
    assert codes(years, date(2026, 5, 1)) == ["too_many_open_years"]


def test_a_gap_between_open_years_is_warned() -> None:
    years = [year("2024", "2024-01-01", "2024-12-31"), year("2026", "2026-01-01", "2026-12-31")]
    assert codes(years, date(2026, 5, 1)) == ["gap_between_open_years"]


def test_a_closed_year_between_two_open_ones_still_leaves_a_gap_in_the_open_ones() -> None:
    years = [
        year("2024", "2024-01-01", "2024-12-31"),
        year("2025", "2025-01-01", "2025-12-31", "closed"),
        year("2026", "2026-01-01", "2026-12-31"),
    ]
    assert codes(years, date(2026, 5, 1)) == ["gap_between_open_years"]
