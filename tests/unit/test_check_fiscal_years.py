"""Rules 5 (`fiscal_year_not_open`) and 6 (`journal_locked`): where the date falls, the journal's state."""

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


def _year(code: str, start: str, end: str, status: str = "open") -> Document:
    return {"code": code, "start": start, "end": end, "status": status}


@pytest.mark.parametrize(
    "day", ["2025-07-01", "2025-12-31", "2026-01-01", "2026-06-15", "2026-12-31"]
)
def test_a_date_in_one_of_the_two_open_fiscal_years_bounds_included_is_accepted(
    check: Check, edf_invoice: Document, day: str
) -> None:
    edf_invoice["date"] = day

    assert check(edf_invoice).accepted


@pytest.mark.parametrize("day", ["2024-01-01", "2024-06-15", "2024-12-31"])
def test_a_date_in_a_closed_fiscal_year_is_rejected_with_its_code(
    check: Check, edf_invoice: Document, day: str
) -> None:
    edf_invoice["date"] = day

    result = check(edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None)]
    assert result.message == "The fiscal year (2024) is not part of the last 2 open fiscal years"
    assert day in result.findings[0].detail
    assert "closed" in result.findings[0].detail


def test_the_fiscal_year_is_named_by_its_code_not_by_the_dates_year(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"] = [
        _year("FY24", "2023-07-01", "2024-06-30", "closed"),
        _year("FY25", "2024-07-01", "2025-06-30"),
        _year("FY26", "2025-07-01", "2026-06-30"),
    ]
    setup_document["import_cursor"] = {}
    edf_invoice["date"] = "2024-03-01"

    result = check_in(setup_document, edf_invoice)

    assert result.message == "The fiscal year (FY24) is not part of the last 2 open fiscal years"


def test_with_three_open_fiscal_years_the_oldest_is_rejected_with_its_code(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"][0]["status"] = "open"
    edf_invoice["date"] = "2024-06-15"

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None)]
    assert result.message == "The fiscal year (2024) is not part of the last 2 open fiscal years"
    detail = result.findings[0].detail
    assert "2024" in detail
    assert "2025" in detail  # the two latest open ones
    assert "2026" in detail


@pytest.mark.parametrize("day", ["2025-12-31", "2026-01-01"])
def test_with_three_open_fiscal_years_the_two_latest_are_accepted(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document, day: str
) -> None:
    setup_document["fiscal_years"][0]["status"] = "open"
    edf_invoice["date"] = day

    assert check_in(setup_document, edf_invoice).accepted


def test_the_two_latest_open_are_by_start_date_whatever_the_order_of_the_setup(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"] = [
        _year("2026", "2026-01-01", "2026-12-31"),
        _year("2024", "2024-01-01", "2024-12-31"),
        _year("2025", "2025-01-01", "2025-12-31"),
    ]
    edf_invoice["date"] = "2024-02-01"

    result = check_in(setup_document, edf_invoice)

    assert result.message == "The fiscal year (2024) is not part of the last 2 open fiscal years"


def test_a_closed_fiscal_year_starting_last_leaves_the_two_open_before_it_usable(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"] = [
        _year("2024", "2024-01-01", "2024-12-31"),
        _year("2025", "2025-01-01", "2025-12-31"),
        _year("2026", "2026-01-01", "2026-12-31", "closed"),
    ]
    setup_document["import_cursor"] = {}
    edf_invoice["date"] = "2024-02-01"
    assert check_in(setup_document, edf_invoice).accepted

    edf_invoice["date"] = "2026-02-01"
    result = check_in(setup_document, edf_invoice)

    assert result.message == "The fiscal year (2026) is not part of the last 2 open fiscal years"


def test_a_date_before_every_fiscal_year_is_rule_5_with_the_dates_year(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["date"] = "2023-12-31"

    result = check(edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None)]
    assert result.message == "The fiscal year (2023) is not part of the last 2 open fiscal years"
    detail = result.findings[0].detail
    assert "2023-12-31" in detail
    assert "2024-01-01" in detail  # where the first fiscal year starts


def test_a_date_in_a_gap_between_two_fiscal_years_is_rule_5_with_the_dates_year(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"] = [
        _year("2024", "2024-01-01", "2024-12-31"),
        _year("2026", "2026-01-01", "2026-12-31"),
    ]
    setup_document["import_cursor"] = {}
    edf_invoice["date"] = "2025-05-20"

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None)]
    assert result.message == "The fiscal year (2025) is not part of the last 2 open fiscal years"
    detail = result.findings[0].detail
    assert "2025-05-20" in detail
    assert "2024-12-31" in detail
    assert "2026-01-01" in detail


def test_a_date_in_a_folder_without_fiscal_years_is_rule_5_with_the_dates_year(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"] = []

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None)]
    assert result.message == "The fiscal year (2026) is not part of the last 2 open fiscal years"


@pytest.mark.parametrize("day", ["2027-01-01", "2031-08-15"])
def test_a_date_after_every_fiscal_year_is_rule_6_with_the_journals_kind(
    check: Check, edf_invoice: Document, day: str
) -> None:
    edf_invoice["date"] = day

    result = check(edf_invoice)

    assert _codes(result) == [("journal_locked", None)]
    assert result.message == "The purchase journal is locked or read-only"
    detail = result.findings[0].detail
    assert day in detail
    assert "2026-12-31" in detail  # where the last fiscal year ends


def test_a_date_after_every_fiscal_year_in_an_unknown_journal_names_the_journals_code(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["journal"] = "XYZ"
    edf_invoice["date"] = "2027-01-01"

    result = check(edf_invoice)

    assert _codes(result) == [("record_not_found", None), ("journal_locked", None)]
    assert result.findings[1].message == "The XYZ journal is locked or read-only"


def test_a_date_after_every_fiscal_year_without_journal_is_rule_1_alone(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["journal"] = None
    edf_invoice["date"] = "2027-01-01"

    assert _codes(check(edf_invoice)) == [("object_reference", None)]


def test_a_date_after_every_closed_fiscal_year_is_rule_6_not_rule_5(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["fiscal_years"] = [_year("2025", "2025-01-01", "2025-12-31", "closed")]
    setup_document["import_cursor"] = {}

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("journal_locked", None)]


def test_a_read_only_journal_is_rule_6_with_its_kind(check: Check, edf_invoice: Document) -> None:
    edf_invoice["journal"] = "OD"

    result = check(edf_invoice)

    assert _codes(result) == [("journal_locked", None)]
    assert result.message == "The OD journal is locked or read-only"
    # Its kind is its code: named once.
    assert result.findings[0].detail == "journal OD is read-only"


def test_a_locked_journal_is_rule_6_with_its_kind(check: Check, edf_invoice: Document) -> None:
    edf_invoice["journal"] = "HA"

    result = check(edf_invoice)

    assert _codes(result) == [("journal_locked", None)]
    assert result.message == "The purchase journal is locked or read-only"
    assert result.findings[0].detail == "journal HA (purchase) is locked"


def test_a_locked_journal_and_a_date_after_every_fiscal_year_are_two_findings(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["journal"] = "HA"
    edf_invoice["date"] = "2027-02-01"

    result = check(edf_invoice)

    assert _codes(result) == [("journal_locked", None), ("journal_locked", None)]
    assert {finding.message for finding in result.findings} == {
        "The purchase journal is locked or read-only"
    }
    details = " | ".join(finding.detail for finding in result.findings)
    assert "locked" in details
    assert "2027-02-01" in details


def test_a_locked_journal_and_a_closed_fiscal_year_give_rule_5_first(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["journal"] = "OD"
    edf_invoice["date"] = "2024-03-01"

    result = check(edf_invoice)

    assert _codes(result) == [("fiscal_year_not_open", None), ("journal_locked", None)]
    assert result.message == "The fiscal year (2024) is not part of the last 2 open fiscal years"


def test_a_journals_kind_is_shown_as_written(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["journals"].append(
        {"code": "AN", "kind": "à-nouveaux", "name": "A nouveaux", "status": "read_only"}
    )
    edf_invoice["journal"] = "AN"

    result = check_in(setup_document, edf_invoice)

    assert result.message == "The à-nouveaux journal is locked or read-only"
