"""Rule 7 (`import_cursor_locked`): dates inside a locked period of the import cursor."""

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


@pytest.mark.parametrize("day", ["2025-01-01", "2025-03-14", "2025-06-30"])
def test_a_date_in_the_locked_period_bounds_included_is_rejected_naming_the_period(
    check: Check, edf_invoice: Document, day: str
) -> None:
    edf_invoice["date"] = day

    result = check(edf_invoice)

    assert _codes(result) == [("import_cursor_locked", None)]
    assert result.message == "Import cursor locked"
    detail = result.findings[0].detail
    assert day in detail
    assert "2025-01-01" in detail
    assert "2025-06-30" in detail


def test_the_day_after_the_locked_period_is_accepted(check: Check, edf_invoice: Document) -> None:
    edf_invoice["date"] = "2025-07-01"

    assert check(edf_invoice).accepted


def test_a_date_in_one_of_several_locked_periods_names_that_period_once(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["import_cursor"] = {
        "locked_periods": [
            {"from": "2025-01-01", "to": "2025-03-31"},
            {"from": "2026-02-01", "to": "2026-03-31"},
        ]
    }

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("import_cursor_locked", None)]
    assert "2026-02-01" in result.findings[0].detail
    assert "2026-03-31" in result.findings[0].detail


def test_a_locked_period_in_a_closed_fiscal_year_gives_both_findings_rule_5_first(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["import_cursor"] = {
        "locked_periods": [{"from": "2024-01-01", "to": "2024-12-31"}]
    }
    edf_invoice["date"] = "2024-05-02"

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None), ("import_cursor_locked", None)]


def test_an_entry_without_date_is_not_checked_against_the_import_cursor(
    check: Check, edf_invoice: Document
) -> None:
    del edf_invoice["date"]

    assert _codes(check(edf_invoice)) == [("object_reference", None)]
