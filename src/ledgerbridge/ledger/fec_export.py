"""The FEC export of one fiscal year, streamed from the posted entries, a row per line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.domain.clock import DEFAULT_TIMEZONE
from ledgerbridge.domain.entries import lines_from_json
from ledgerbridge.domain.fec import HEADER, FecLine, fec_file_name, fec_row
from ledgerbridge.domain.values import format_amount
from ledgerbridge.ledger.errors import NoPostedEntries, UnknownFiscalYear
from ledgerbridge.ledger.folders import Folder
from ledgerbridge.ledger.queries import amount_of, as_utc, cents_of, fiscal_years_with_entries
from ledgerbridge.ledger.tables import posted_entries

# ValidDate is the day the entry was posted, as the French firm's calendar reads it.
LEDGER_TIME_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
_STREAM_ROWS = 2000


@dataclass(frozen=True, slots=True)
class FecExport:
    """What an export wrote."""

    folder: str
    fiscal_year: str
    file_name: str
    entries: int
    lines: int
    total_debit: Decimal
    total_credit: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "fiscal_year": self.fiscal_year,
            "file_name": self.file_name,
            "entries": self.entries,
            "lines": self.lines,
            "total_debit": format_amount(self.total_debit),
            "total_credit": format_amount(self.total_credit),
        }


def fiscal_year_to_export(connection: Connection, folder: Folder, fiscal_year: str | None) -> str:
    """The fiscal year named, refused when unknown; else the latest holding posted entries."""
    years = {year.code: year for year in folder.setup.fiscal_years}
    if fiscal_year is not None:
        if fiscal_year not in years:
            ordered = sorted(years.values(), key=lambda year: year.start)
            raise UnknownFiscalYear(folder.code, fiscal_year, [year.code for year in ordered])
        return fiscal_year
    holding = fiscal_years_with_entries(connection, folder.id)
    if not holding:
        raise NoPostedEntries(folder.code)
    return max(holding, key=lambda code: years[code].start)


def export_file_name(folder: Folder, fiscal_year: str) -> str:
    end = next(year.end for year in folder.setup.fiscal_years if year.code == fiscal_year)
    return fec_file_name(folder.code, folder.setup.siren, end)


def export_fec(
    connection: Connection, folder: Folder, out: TextIO, fiscal_year: str | None = None
) -> FecExport:
    """Write the FEC of `fiscal_year` (default: the latest holding posted entries) to `out`."""
    setup = folder.setup
    fiscal_year = fiscal_year_to_export(connection, folder, fiscal_year)
    journal_names = {journal.code: journal.name or journal.code for journal in setup.journals}
    account_names = {account.number: account.name or account.number for account in setup.accounts}
    auxiliary_names = {party.code: party.name or party.code for party in setup.third_parties}
    validation_dates: dict[datetime, date] = {}

    query = (
        sa.select(
            posted_entries.c.number,
            posted_entries.c.journal,
            posted_entries.c.date,
            posted_entries.c.reference,
            posted_entries.c.entry_id,
            posted_entries.c.label,
            posted_entries.c.posted_at,
            posted_entries.c.lines,
        )
        .where(
            posted_entries.c.folder_id == folder.id,
            posted_entries.c.fiscal_year == fiscal_year,
        )
        .order_by(posted_entries.c.number)
        .execution_options(yield_per=_STREAM_ROWS)
    )
    out.write(HEADER + "\n")
    entries = lines = debit = credit = 0
    for row in connection.execute(query):
        entries += 1
        valid = validation_dates.get(row.posted_at)
        if valid is None:
            valid = validation_dates[row.posted_at] = (
                as_utc(row.posted_at).astimezone(LEDGER_TIME_ZONE).date()
            )
        piece = row.reference or row.entry_id
        journal_name = journal_names.get(row.journal, row.journal)
        for line in lines_from_json(row.lines):
            account = line.account
            assert account is not None  # a posted line passed the check: it names its account
            line_debit, line_credit = cents_of(line.debit), cents_of(line.credit)
            out.write(
                fec_row(
                    FecLine(
                        journal_code=row.journal,
                        journal_name=journal_name,
                        entry_number=row.number,
                        entry_date=row.date,
                        account_number=account,
                        account_name=account_names.get(account, account),
                        auxiliary_number=line.auxiliary,
                        auxiliary_name=(
                            auxiliary_names.get(line.auxiliary, line.auxiliary)
                            if line.auxiliary
                            else None
                        ),
                        piece_reference=piece,
                        piece_date=row.date,
                        label=line.label or row.label or piece,
                        debit=line_debit,
                        credit=line_credit,
                        validation_date=valid,
                    )
                )
                + "\n"
            )
            lines += 1
            debit += line_debit
            credit += line_credit
    return FecExport(
        folder=folder.code,
        fiscal_year=fiscal_year,
        file_name=export_file_name(folder, fiscal_year),
        entries=entries,
        lines=lines,
        total_debit=amount_of(debit),
        total_credit=amount_of(credit),
    )
