"""Rules 8 (`collective_account`) and 9 (`account_locked`): what an account asks of its lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]
CheckIn = Callable[[Document, Document], CheckResult]


def _codes(result: CheckResult) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.line) for finding in result.findings]


@pytest.mark.parametrize("auxiliary", [None, ""], ids=["null", "empty"])
def test_collective_account_without_auxiliary_is_rejected(
    check: Check, edf_invoice: Document, auxiliary: str | None
) -> None:
    edf_invoice["lines"][2]["auxiliary"] = auxiliary

    result = check(edf_invoice)

    assert _codes(result) == [("collective_account", 3)]
    assert result.message == "Account (401000) or other is collective"
    assert "line 3" in result.findings[0].detail
    assert "401000" in result.findings[0].detail


def test_a_customer_collective_account_without_auxiliary_names_its_number(check: Check) -> None:
    entry = {
        "id": "sale-without-customer",
        "journal": "VTE",
        "date": "2026-02-05",
        "lines": [
            {"account": "411000", "debit": "1200.00"},
            {"account": "706000", "credit": "1000.00"},
            {"account": "445710", "credit": "200.00"},
        ],
    }

    result = check(entry)

    assert _codes(result) == [("collective_account", 1)]
    assert result.message == "Account (411000) or other is collective"


def test_a_non_collective_account_needs_no_auxiliary(check: Check, edf_invoice: Document) -> None:
    assert "auxiliary" not in edf_invoice["lines"][1]

    assert check(edf_invoice).accepted


def test_a_line_on_a_locked_account_is_rejected_naming_the_account(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][1]["account"] = "626000"

    result = check(edf_invoice)

    assert _codes(result) == [("account_locked", 2)]
    assert result.message == "Account 626000 is locked"
    assert "line 2" in result.findings[0].detail
    assert "626000" in result.findings[0].detail


def test_a_locked_collective_account_without_auxiliary_gives_both_findings_in_rule_order(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["accounts"][0]["locked"] = True  # 401000
    del edf_invoice["lines"][2]["auxiliary"]

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("collective_account", 3), ("account_locked", 3)]
    assert [finding.message for finding in result.findings] == [
        "Account (401000) or other is collective",
        "Account 401000 is locked",
    ]


def test_each_locked_line_is_its_own_finding(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["accounts"][2]["locked"] = True  # 445660
    edf_invoice["lines"].insert(0, {"account": "626000", "debit": "10.00"})
    edf_invoice["lines"][3]["credit"] = "130.00"

    result = check_in(setup_document, edf_invoice)

    assert [(f.code, f.line, f.message) for f in result.findings] == [
        ("account_locked", 1, "Account 626000 is locked"),
        ("account_locked", 3, "Account 445660 is locked"),
    ]
