"""Rule 3 (`document_not_settled`): debits equal credits, no line on both sides, in decimals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]


def _codes(result: CheckResult) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.line) for finding in result.findings]


def _bank_entry(*lines: Document) -> Document:
    return {"id": "bank", "journal": "BQ", "date": "2026-04-02", "lines": list(lines)}


def test_unbalanced_totals_are_an_entry_level_finding_naming_both_totals(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][2]["credit"] = "119.99"

    result = check(edf_invoice)

    assert _codes(result) == [("document_not_settled", None)]
    assert result.message == "The document is not settled"
    detail = result.findings[0].detail
    assert "120.00" in detail
    assert "119.99" in detail
    assert "0.01" in detail  # the difference


def test_a_line_with_both_debit_and_credit_is_rejected_even_when_totals_balance(
    check: Check,
) -> None:
    entry = _bank_entry(
        {"account": "512000", "debit": "100.00", "credit": "40.00"},
        {"account": "706000", "credit": "60.00"},
    )

    result = check(entry)

    assert _codes(result) == [("document_not_settled", 1)]
    detail = result.findings[0].detail
    assert "line 1" in detail
    assert "100.00" in detail
    assert "40.00" in detail


def test_unbalanced_totals_come_before_the_lines_with_both_sides(check: Check) -> None:
    entry = _bank_entry(
        {"account": "512000", "debit": "10.00"},
        {"account": "706000", "debit": "5.00", "credit": "5.00"},
        {"account": "445710", "debit": "1.00", "credit": "2.00"},
    )

    assert _codes(check(entry)) == [
        ("document_not_settled", None),
        ("document_not_settled", 2),
        ("document_not_settled", 3),
    ]


@pytest.mark.parametrize(
    ("debits", "credits"),
    [
        (["0.10", "0.20"], ["0.30"]),  # 0.1 + 0.2 != 0.3 in binary floating point
        (["1.500"], ["1.50"]),  # trailing zeros dropped
        ([120], ["120.00"]),  # a JSON integer
        ([Decimal("33.33"), Decimal("33.33"), Decimal("33.34")], ["100"]),  # JSON numbers
    ],
)
def test_amounts_are_compared_as_decimals(
    check: Check, debits: list[object], credits: list[object]
) -> None:
    lines: list[Document] = [{"account": "512000", "debit": amount} for amount in debits]
    lines += [{"account": "706000", "credit": amount} for amount in credits]

    assert check(_bank_entry(*lines)).accepted


def test_a_cent_of_difference_in_many_lines_is_still_not_settled(check: Check) -> None:
    lines: list[Document] = [{"account": "512000", "debit": "0.10"} for _ in range(10)]
    lines.append({"account": "706000", "credit": "1.01"})

    result = check(_bank_entry(*lines))

    assert _codes(result) == [("document_not_settled", None)]
    assert "1.00" in result.findings[0].detail
    assert "1.01" in result.findings[0].detail


def test_lines_without_amount_count_as_zero_in_the_totals(check: Check) -> None:
    entry = _bank_entry(
        {"account": "512000", "debit": "10.00"},
        {"account": "706000"},
        {"account": "706000", "credit": "10.00"},
    )

    assert _codes(check(entry)) == [("object_reference", 2)]
