"""Rule 4 (`record_not_found`): the journal, accounts and auxiliary accounts the folder knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]


def _codes(result: CheckResult) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.line) for finding in result.findings]


def test_an_unknown_journal_is_an_entry_level_finding_naming_it(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["journal"] = "ACHX"

    result = check(edf_invoice)

    assert _codes(result) == [("record_not_found", None)]
    assert result.message == "Record not found"
    assert "ACHX" in result.findings[0].detail


def test_an_unknown_account_is_reported_on_its_line(check: Check, edf_invoice: Document) -> None:
    edf_invoice["lines"][1]["account"] = "445999"

    result = check(edf_invoice)

    assert _codes(result) == [("record_not_found", 2)]
    assert "line 2" in result.findings[0].detail
    assert "445999" in result.findings[0].detail


def test_an_unknown_auxiliary_account_is_reported_on_its_line(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = "FEDFX"

    result = check(edf_invoice)

    assert _codes(result) == [("record_not_found", 3)]
    assert "line 3" in result.findings[0].detail
    assert "FEDFX" in result.findings[0].detail


def test_an_auxiliary_account_of_another_collective_account_is_not_found(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = "CDUPONT"  # a customer, under 411000

    result = check(edf_invoice)

    assert _codes(result) == [("record_not_found", 3)]
    detail = result.findings[0].detail
    assert "line 3" in detail
    assert "CDUPONT" in detail
    assert "411000" in detail
    assert "401000" in detail


def test_an_auxiliary_account_on_a_non_collective_account_is_not_found(check: Check) -> None:
    entry = {
        "id": "edf-on-bank",
        "journal": "BQ",
        "date": "2026-04-02",
        "lines": [
            {"account": "512000", "auxiliary": "FEDF", "debit": "120.00"},
            {"account": "401000", "auxiliary": "FEDF", "credit": "120.00"},
        ],
    }

    result = check(entry)

    assert _codes(result) == [("record_not_found", 1)]
    assert "FEDF" in result.findings[0].detail
    assert "512000" in result.findings[0].detail


def test_an_auxiliary_account_under_its_own_collective_account_is_accepted(
    check: Check,
) -> None:
    entry = {
        "id": "dupont-sale",
        "journal": "VTE",
        "date": "2026-02-05",
        "lines": [
            {"account": "411000", "auxiliary": "CDUPONT", "debit": "1200.00"},
            {"account": "706000", "credit": "1000.00"},
            {"account": "445710", "credit": "200.00"},
        ],
    }

    assert check(entry).accepted


def test_an_unknown_auxiliary_on_a_collective_account_is_not_also_a_missing_auxiliary(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = "NOBODY"

    assert [finding.code for finding in check(edf_invoice).findings] == ["record_not_found"]


def test_an_unknown_journal_on_an_open_date_has_no_journal_locked_finding(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["journal"] = "XYZ"

    assert [finding.code for finding in check(edf_invoice).findings] == ["record_not_found"]


def test_every_unknown_record_is_reported(check: Check) -> None:
    entry = {
        "id": "all-unknown",
        "journal": "XYZ",
        "date": "2026-02-05",
        "lines": [
            {"account": "999001", "debit": "10.00"},
            {"account": "401000", "auxiliary": "NOBODY", "credit": "4.00"},
            {"account": "999002", "credit": "6.00"},
        ],
    }

    result = check(entry)

    assert _codes(result) == [
        ("record_not_found", None),
        ("record_not_found", 1),
        ("record_not_found", 2),
        ("record_not_found", 3),
    ]
    for finding, unknown in zip(
        result.findings, ["XYZ", "999001", "NOBODY", "999002"], strict=True
    ):
        assert unknown in finding.detail
