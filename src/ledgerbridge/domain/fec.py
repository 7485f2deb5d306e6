"""The FEC (fichier des écritures comptables, article A47 A-1 of the LPF): columns and rows.

Pure formatting: the 18 columns in their order, `|` separated, dates `YYYYMMDD`, amounts
with a comma. Lettering and foreign currency columns stay empty: the ledger letters
nothing and keeps the folder's currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
SEPARATOR = "|"
HEADER = SEPARATOR.join(COLUMNS)
# A separator, a tab or a line break inside a value would shift the columns of the row:
# every character that str.splitlines() breaks a line at, not only \r and \n, since
# readers of the file may split it so.
_BREAKS_A_ROW = re.compile("[|\t\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class FecLine:
    """One line of a posted entry, with the names the setup gives its codes."""

    journal_code: str
    journal_name: str
    entry_number: int
    entry_date: date
    account_number: str
    account_name: str
    auxiliary_number: str | None
    auxiliary_name: str | None
    piece_reference: str
    piece_date: date
    label: str
    debit: int  # cents
    credit: int  # cents
    validation_date: date


def fec_date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def fec_amount(cents: int) -> str:
    """`12000` cents -> `120,00`."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100},{cents % 100:02d}"


def fec_text(value: str | None) -> str:
    if not value:
        return ""
    return _BREAKS_A_ROW.sub(" ", value).strip()


def fec_row(line: FecLine) -> str:
    """The line as one FEC record, without its line break."""
    return SEPARATOR.join(
        (
            fec_text(line.journal_code),
            fec_text(line.journal_name),
            str(line.entry_number),
            fec_date(line.entry_date),
            fec_text(line.account_number),
            fec_text(line.account_name),
            fec_text(line.auxiliary_number),
            fec_text(line.auxiliary_name),
            fec_text(line.piece_reference),
            fec_date(line.piece_date),
            fec_text(line.label),
            fec_amount(line.debit),
            fec_amount(line.credit),
            "",
            "",
            fec_date(line.validation_date),
            "",
            "",
        )
    )


def fec_file_name(folder: str, siren: str | None, fiscal_year_end: date) -> str:
    """`{siren}FEC{end of the fiscal year YYYYMMDD}.txt`; the folder code when no SIREN.

    One name, never a path: a slash, a backslash or a control character of the code (a
    folder code is any text) is written `_`, so the file stays where it is written."""
    return f"{_NOT_IN_A_NAME.sub('_', siren or folder)}FEC{fec_date(fiscal_year_end)}.txt"


_NOT_IN_A_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
