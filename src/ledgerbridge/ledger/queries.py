"""Reading posted entries back: frozen values, streamed page by page in number order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.domain.entries import Line, lines_from_json
from ledgerbridge.domain.setup import FolderSetup
from ledgerbridge.domain.values import ZERO_CENTS, format_amount
from ledgerbridge.ledger.errors import UnknownFiscalYear
from ledgerbridge.ledger.tables import entry_counters, posted_entries

PAGE_SIZE = 1000


def amount_of(cents: int) -> Decimal:
    """Integer cents as a Decimal with 2 places: 12000 -> Decimal('120.00')."""
    return Decimal(cents).scaleb(-2)


def cents_of(amount: Decimal | None) -> int:
    """A posted amount (2 places, None when absent) in integer cents: Decimal('120.00') -> 12000."""
    return int(amount.scaleb(2)) if amount else 0


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back the stored UTC time without its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PostedAllocation:
    axis: str
    section: str
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"axis": self.axis, "section": self.section, "amount": format_amount(self.amount)}


@dataclass(frozen=True, slots=True)
class PostedLine:
    line: int  # from 1, in the entry's order
    account: str
    auxiliary: str | None
    label: str | None
    debit: Decimal  # 0.00 on the credit side
    credit: Decimal  # 0.00 on the debit side
    analytics: tuple[PostedAllocation, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "account": self.account,
            "auxiliary": self.auxiliary,
            "label": self.label,
            "debit": format_amount(self.debit) if self.debit else None,
            "credit": format_amount(self.credit) if self.credit else None,
            "analytics": [allocation.as_dict() for allocation in self.analytics],
        }


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """An entry as the ledger posted it, under its number in its fiscal year."""

    number: int
    fiscal_year: str
    id: str
    key: str
    date: date
    journal: str
    reference: str | None
    label: str | None
    posted_at: datetime
    lines: tuple[PostedLine, ...]

    def as_dict(self) -> dict[str, Any]:
        """The `ledger entries` item (SPEC §7): lines nested, amounts as decimal strings."""
        return {
            "number": self.number,
            "fiscal_year": self.fiscal_year,
            "id": self.id,
            "key": self.key,
            "date": self.date.isoformat(),
            "journal": self.journal,
            "reference": self.reference,
            "label": self.label,
            "posted_at": self.posted_at.isoformat(),
            "lines": [line.as_dict() for line in self.lines],
        }


def fiscal_years_in_order(setup: FolderSetup, only: str | None = None) -> list[str]:
    """The folder's fiscal years by start date, or just `only`, refused when unknown."""
    codes = [year.code for year in sorted(setup.fiscal_years, key=lambda year: year.start)]
    if only is None:
        return codes
    if only not in codes:
        raise UnknownFiscalYear(setup.folder, only, codes)
    return [only]


def fiscal_years_with_entries(connection: Connection, folder_id: int) -> set[str]:
    query = sa.select(entry_counters.c.fiscal_year).where(
        entry_counters.c.folder_id == folder_id, entry_counters.c.last_number > 0
    )
    return set(connection.scalars(query))


@dataclass(frozen=True, slots=True)
class PostedWidths:
    """The longest values of the posted entries listed, in characters: a table of them can
    be aligned from its first row while the entries are still read a page at a time."""

    entry_id: int = 0
    fiscal_year: int = 0
    number: int = 0  # digits of the highest number
    journal: int = 0


def posted_widths(
    connection: Connection, folder_id: int, fiscal_years: Sequence[str]
) -> PostedWidths:
    row = connection.execute(
        sa.select(
            sa.func.max(sa.func.length(posted_entries.c.entry_id)),
            sa.func.max(sa.func.length(posted_entries.c.fiscal_year)),
            sa.func.max(posted_entries.c.number),
            sa.func.max(sa.func.length(posted_entries.c.journal)),
        ).where(
            posted_entries.c.folder_id == folder_id,
            posted_entries.c.fiscal_year.in_(fiscal_years),
        )
    ).one()
    entry_id, fiscal_year, number, journal = row
    return PostedWidths(
        entry_id=entry_id or 0,
        fiscal_year=fiscal_year or 0,
        number=len(str(number)) if number else 0,
        journal=journal or 0,
    )


def read_posted_entries(
    connection: Connection,
    folder_id: int,
    fiscal_years: Sequence[str],
    page_size: int = PAGE_SIZE,
) -> Iterator[PostedEntry]:
    """Posted entries of these fiscal years, in that order then by number, a page at a time."""
    for fiscal_year in fiscal_years:
        after = 0
        while True:
            page = connection.execute(
                sa.select(posted_entries)
                .where(
                    posted_entries.c.folder_id == folder_id,
                    posted_entries.c.fiscal_year == fiscal_year,
                    posted_entries.c.number > after,
                )
                .order_by(posted_entries.c.number)
                .limit(page_size)
            ).all()
            if not page:
                break
            yield from map(_posted_entry, page)
            after = page[-1].number


def _posted_entry(row: sa.Row[Any]) -> PostedEntry:
    return PostedEntry(
        number=row.number,
        fiscal_year=row.fiscal_year,
        id=row.entry_id,
        key=row.key,
        date=row.date,
        journal=row.journal,
        reference=row.reference,
        label=row.label,
        posted_at=as_utc(row.posted_at),
        lines=_posted_lines(row.lines),
    )


def _posted_lines(text: str) -> tuple[PostedLine, ...]:
    """A posted entry's lines from its `lines` column, numbered from 1 in their order."""
    return tuple(_posted_line(number, line) for number, line in enumerate(lines_from_json(text), 1))


def _posted_line(number: int, line: Line) -> PostedLine:
    # A posted line passed the check: it names an account, and each of its allocations an
    # axis and a section.
    assert line.account is not None
    analytics = []
    for allocation in line.analytics or ():
        assert allocation.axis is not None and allocation.section is not None
        analytics.append(
            PostedAllocation(allocation.axis, allocation.section, allocation.amount or ZERO_CENTS)
        )
    return PostedLine(
        line=number,
        account=line.account,
        auxiliary=line.auxiliary,
        label=line.label,
        debit=line.debit or ZERO_CENTS,
        credit=line.credit or ZERO_CENTS,
        analytics=tuple(analytics),
    )
