"""The fiscal-period warning (the red triangle): open fiscal years that will reject entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.setup import FiscalYear


@dataclass(frozen=True, slots=True)
class FiscalPeriodProblem:
    code: str  # no_open_year_covers_today | too_many_open_years | gap_between_open_years
    message: str
    fix: str


def fiscal_period_problems(
    fiscal_years: list[FiscalYear], today: date
) -> list[FiscalPeriodProblem]:
    """What is wrong with the open fiscal years on `today` (the client's local date)."""
    open_years = sorted(
        (year for year in fiscal_years if year.status == "open"), key=lambda y: y.start
    )
    problems = []
    if not any(year.covers(today) for year in open_years):
        problems.append(
            FiscalPeriodProblem(
                "no_open_year_covers_today",
                f"No open fiscal year covers today ({today}).",
                "In the ledger, open (or create) the fiscal year covering today's date, then"
                " resynchronize the fiscal years.",
            )
        )
    if len(open_years) > 2:
        codes = ", ".join(year.code for year in open_years)
        problems.append(
            FiscalPeriodProblem(
                "too_many_open_years",
                f"{counted(len(open_years), 'fiscal year is', 'fiscal years are')} open ({codes});"
                " at most two may be.",
                "In the ledger, close the oldest fiscal years so that at most two consecutive"
                " ones stay open, then resynchronize the fiscal years.",
            )
        )
    for before, after in pairwise(open_years):
        if (after.start - before.end).days > 1:
            problems.append(
                FiscalPeriodProblem(
                    "gap_between_open_years",
                    f"Open fiscal years {before.code} (ending {before.end}) and {after.code}"
                    f" (starting {after.start}) leave a gap between them.",
                    "In the ledger, adjust the fiscal years so that the open ones follow each"
                    " other without interruption, then resynchronize the fiscal years.",
                )
            )
    return problems
