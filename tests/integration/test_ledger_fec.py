"""The FEC export: 18 columns, one row per posted line, amounts that add up to the posted ones."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.fec import COLUMNS
from ledgerbridge.domain.setup import parse_setup
from ledgerbridge.ledger import Ledger, NoPostedEntries, UnknownFiscalYear
from tests.integration.ledger_samples import acme_document, acme_setup, purchase, sale

Row = dict[str, str]


def post(ledger: Ledger, *entries: Entry, folder: str = "ACME") -> None:
    summary = ledger.post_batch(folder, entries, on_result=lambda result: None)
    assert summary.accepted == len(entries)


def export(ledger: Ledger, fiscal_year: str | None = None) -> tuple[list[str], list[Row]]:
    out = io.StringIO()
    ledger.export_fec("ACME", out, fiscal_year)
    header, *records = out.getvalue().split("\n")[:-1]
    fields = header.split("|")
    return fields, [dict(zip(fields, record.split("|"), strict=True)) for record in records]


def amount(text: str) -> Decimal:
    whole, cents = text.split(",")
    return Decimal(f"{whole}.{cents}")


def test_the_file_has_the_18_columns_in_their_order(acme: Ledger) -> None:
    post(acme, purchase("a"))
    out = io.StringIO()

    acme.export_fec("ACME", out)

    header, *records = out.getvalue().splitlines()
    assert header == (
        "JournalCode|JournalLib|EcritureNum|EcritureDate|CompteNum|CompteLib|CompAuxNum"
        "|CompAuxLib|PieceRef|PieceDate|EcritureLib|Debit|Credit|EcritureLet|DateLet"
        "|ValidDate|Montantdevise|Idevise"
    )
    assert tuple(header.split("|")) == COLUMNS
    assert len(records) == 3
    assert all(len(record.split("|")) == 18 for record in records)


def test_the_export_round_trips_the_posted_amounts_line_by_line(acme: Ledger) -> None:
    post(
        acme,
        purchase("a", amount="100.00"),
        sale("b", amount="1234.56"),
        purchase("c", amount="0.05", vat="0.01"),
        purchase("d", amount="987654.32"),
    )
    posted = list(acme.posted_entries("ACME", "2026"))

    _, rows = export(acme)

    expected = [
        (str(entry.number), line.account, line.auxiliary or "", line.debit, line.credit)
        for entry in posted
        for line in entry.lines
    ]
    found = [
        (
            row["EcritureNum"],
            row["CompteNum"],
            row["CompAuxNum"],
            amount(row["Debit"]),
            amount(row["Credit"]),
        )
        for row in rows
    ]
    assert found == expected
    total_debit = sum((amount(row["Debit"]) for row in rows), Decimal(0))
    total_credit = sum((amount(row["Credit"]) for row in rows), Decimal(0))
    assert (
        total_debit
        == total_credit
        == sum((line.debit for entry in posted for line in entry.lines), Decimal(0))
    )


def test_a_row_carries_the_setup_s_names_dates_and_reference(acme: Ledger) -> None:
    post(acme, purchase("inv-2026-0042"))

    _, rows = export(acme)

    assert rows[2] == {
        "JournalCode": "ACH",
        "JournalLib": "Achats",
        "EcritureNum": "1",
        "EcritureDate": "20260314",
        "CompteNum": "401000",
        "CompteLib": "Fournisseurs",
        "CompAuxNum": "FEDF",
        "CompAuxLib": "EDF",
        "PieceRef": "F2026-0042",
        "PieceDate": "20260314",
        "EcritureLib": "EDF mars 2026",  # the line has no label: the entry's
        "Debit": "0,00",
        "Credit": "120,00",
        "EcritureLet": "",
        "DateLet": "",
        "ValidDate": "20260321",  # posted at 23:30 UTC, already the 21st in Paris
        "Montantdevise": "",
        "Idevise": "",
    }
    assert rows[0]["EcritureLib"] == "EDF"


def test_the_piece_reference_is_the_entry_id_when_it_has_no_reference(acme: Ledger) -> None:
    post(acme, sale("VTE-2026-7"))

    _, rows = export(acme)

    assert {row["PieceRef"] for row in rows} == {"VTE-2026-7"}


def test_names_come_from_the_current_setup(acme: Ledger) -> None:
    post(acme, purchase("a"))
    renamed = acme_document()
    renamed["journals"][0]["name"] = "Achats France"
    acme.apply_setup(parse_setup(renamed))

    _, rows = export(acme)

    assert {row["JournalLib"] for row in rows} == {"Achats France"}


def test_entries_are_numbered_without_gaps_in_entry_then_line_order(acme: Ledger) -> None:
    post(acme, purchase("a"), sale("b"), purchase("c", "2025-08-01"), purchase("d"))

    _, rows = export(acme, "2026")

    assert [row["EcritureNum"] for row in rows] == ["1"] * 3 + ["2"] * 3 + ["3"] * 3


def test_by_default_the_latest_fiscal_year_holding_posted_entries_is_exported(
    acme: Ledger,
) -> None:
    post(acme, purchase("a", "2025-08-01"), purchase("b", "2025-09-01"))
    out = io.StringIO()

    export_report = acme.export_fec("ACME", out)

    assert export_report.fiscal_year == "2025"
    assert export_report.file_name == "552100554FEC20251231.txt"
    assert acme.fec_file_name("ACME") == "552100554FEC20251231.txt"
    assert (export_report.entries, export_report.lines) == (2, 6)
    assert export_report.total_debit == export_report.total_credit == Decimal("240.00")


def test_the_file_is_named_after_the_folder_when_the_setup_has_no_siren(ledger: Ledger) -> None:
    ledger.apply_setup(acme_setup(siren=None))
    post(ledger, purchase("a"))

    assert ledger.export_fec("ACME", io.StringIO()).file_name == "ACMEFEC20261231.txt"


@pytest.mark.parametrize(
    ("code", "name"),
    [("a b/c", "a b_cFEC20261231.txt"), ("../../x", ".._.._xFEC20261231.txt")],
)
def test_a_folder_code_that_reads_as_a_path_gives_one_file_name(
    ledger: Ledger, code: str, name: str
) -> None:
    ledger.apply_setup(acme_setup(folder=code, siren=None))
    post(ledger, purchase("a"), folder=code)

    assert ledger.export_fec(code, io.StringIO()).file_name == name


def test_a_folder_with_nothing_posted_has_no_default_fiscal_year(acme: Ledger) -> None:
    with pytest.raises(NoPostedEntries, match="--fiscal-year"):
        acme.export_fec("ACME", io.StringIO())


def test_a_named_fiscal_year_without_entries_exports_the_header_alone(acme: Ledger) -> None:
    post(acme, purchase("a"))

    fields, rows = export(acme, "2025")

    assert tuple(fields) == COLUMNS
    assert rows == []


def test_an_unknown_fiscal_year_is_refused(acme: Ledger) -> None:
    with pytest.raises(UnknownFiscalYear, match="2025, 2026"):
        acme.export_fec("ACME", io.StringIO(), "2031")


@pytest.mark.parametrize(
    "label",
    ["EDF | mars", "EDF\nmars", "EDF\r\nmars", "EDF\tmars", "EDF\u2028mars", "EDF\x0bmars"],
)
def test_a_label_cannot_break_a_row(acme: Ledger, label: str) -> None:
    post(acme, purchase("a", label=label))
    out = io.StringIO()
    acme.export_fec("ACME", out)

    _, rows = export(acme)

    assert len(out.getvalue().splitlines()) == 1 + 3  # the header, then the entry's 3 lines
    assert len(rows) == 3
    shown = label.replace("\r\n", "  ")
    for breaker in "|\n\t\u2028\x0b":
        shown = shown.replace(breaker, " ")
    assert rows[2]["EcritureLib"] == shown
