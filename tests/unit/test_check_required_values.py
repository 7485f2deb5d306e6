"""Rule 1 (`object_reference`) and what counts as absent (§5.1): reported there and only there."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]

MISSING = object()  # the key is left out of the document
ABSENT_TEXTS = [MISSING, None, ""]
ABSENT_AMOUNTS = [MISSING, None, "", "0", "0.00", 0, Decimal("0.00")]


def _set(document: Document, key: str, value: object) -> None:
    if value is MISSING:
        document.pop(key, None)
    else:
        document[key] = value


def _codes(result: CheckResult) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.line) for finding in result.findings]


@pytest.mark.parametrize("journal", ABSENT_TEXTS, ids=["missing", "null", "empty"])
def test_an_entry_without_journal_is_rejected_under_rule_1_only(
    check: Check, edf_invoice: Document, journal: object
) -> None:
    _set(edf_invoice, "journal", journal)

    result = check(edf_invoice)

    assert _codes(result) == [("object_reference", None)]
    assert "journal" in result.findings[0].detail


def test_an_entry_without_journal_dated_after_every_fiscal_year_has_no_rule_6_finding(
    check: Check, edf_invoice: Document
) -> None:
    del edf_invoice["journal"]
    edf_invoice["date"] = "2027-03-14"

    assert _codes(check(edf_invoice)) == [("object_reference", None)]


@pytest.mark.parametrize("day", ABSENT_TEXTS, ids=["missing", "null", "empty"])
def test_an_entry_without_date_is_rejected_under_rule_1_only(
    check: Check, edf_invoice: Document, day: object
) -> None:
    _set(edf_invoice, "date", day)

    result = check(edf_invoice)

    assert _codes(result) == [("object_reference", None)]
    assert "date" in result.findings[0].detail


@pytest.mark.parametrize("lines", [MISSING, None, []], ids=["missing", "null", "empty list"])
def test_an_entry_without_lines_is_rejected_under_rule_1_only(
    check: Check, edf_invoice: Document, lines: object
) -> None:
    _set(edf_invoice, "lines", lines)

    result = check(edf_invoice)

    assert _codes(result) == [("object_reference", None)]
    assert "lines" in result.findings[0].detail


def test_an_entry_missing_journal_date_and_lines_has_three_findings(check: Check) -> None:
    result = check({"id": "empty"})

    assert _codes(result) == [("object_reference", None)] * 3
    details = " | ".join(finding.detail for finding in result.findings)
    assert "journal" in details
    assert "date" in details
    assert "lines" in details


@pytest.mark.parametrize("account", ABSENT_TEXTS, ids=["missing", "null", "empty"])
def test_a_line_without_account_is_rejected_under_rule_1_only(
    check: Check, edf_invoice: Document, account: object
) -> None:
    _set(edf_invoice["lines"][1], "account", account)

    result = check(edf_invoice)

    assert _codes(result) == [("object_reference", 2)]
    assert "line 2" in result.findings[0].detail
    assert "account" in result.findings[0].detail


def test_a_collective_line_without_account_is_not_checked_for_its_auxiliary(
    check: Check, edf_invoice: Document
) -> None:
    del edf_invoice["lines"][2]["account"]  # FEDF belongs to 401000, but no account to compare

    assert _codes(check(edf_invoice)) == [("object_reference", 3)]


@pytest.mark.parametrize(
    "amount",
    ABSENT_AMOUNTS,
    ids=["missing", "null", "empty", "text zero", "text zero cents", "number zero", "decimal"],
)
def test_a_line_with_neither_debit_nor_credit_is_rejected_under_rule_1(
    check: Check, edf_invoice: Document, amount: object
) -> None:
    vat = edf_invoice["lines"][1]
    del vat["debit"]
    _set(vat, "debit", amount)
    _set(vat, "credit", amount)
    edf_invoice["lines"][2]["credit"] = "100.00"  # keep the totals equal

    result = check(edf_invoice)

    assert _codes(result) == [("object_reference", 2)]
    assert "line 2" in result.findings[0].detail
    assert "debit" in result.findings[0].detail


def test_a_zero_debit_beside_a_credit_is_not_a_line_with_both(check: Check) -> None:
    entry = {
        "id": "zero-debit",
        "journal": "BQ",
        "date": "2026-04-02",
        "lines": [
            {"account": "401000", "auxiliary": "FEDF", "debit": "120.00", "credit": "0.00"},
            {"account": "512000", "debit": 0, "credit": "120.00"},
        ],
    }

    assert check(entry).accepted


def test_a_line_without_account_and_amount_gives_two_rule_1_findings_on_that_line(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"].append({"label": "vide"})

    result = check(edf_invoice)

    assert _codes(result) == [("object_reference", 4), ("object_reference", 4)]


def test_an_empty_auxiliary_is_absent_so_the_collective_rule_reports_it(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = ""

    assert _codes(check(edf_invoice)) == [("collective_account", 3)]


def test_an_empty_label_and_reference_are_absent_and_accepted(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["label"] = ""
    edf_invoice["reference"] = None
    del edf_invoice["lines"][0]["label"]

    assert check(edf_invoice).accepted
