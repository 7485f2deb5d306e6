"""Rules 10 (`analytic_axis_missing`) and 11 (`analytic_allocation_incorrect`), per §5.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]
CheckIn = Callable[[Document, Document], CheckResult]

AXIS_MISSING = "The analytical axis does not exist. On-the-fly creation is not allowed"
ALLOCATION_INCORRECT = (
    "At least one line has a failure status; the allocation of the line amount is incorrect"
    " on at least one of the analytical axes"
)
ACTIVITY = {"code": "ACTIVITY", "name": "Activité", "sections": ["CONSEIL", "FORMATION"]}


def _codes(result: CheckResult) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.line) for finding in result.findings]


def _allocation(axis: str, section: str, amount: str) -> Document:
    return {"axis": axis, "section": section, "amount": amount}


def _with_activity_axis(setup: Document, *, allow_without: bool = False) -> Document:
    setup["analytics"] = {
        "allow_entries_without_analytics": allow_without,
        "axes": [*setup["analytics"]["axes"], ACTIVITY],
    }
    return setup


def test_an_allocation_on_an_unknown_axis_is_rule_10_naming_the_axis(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][0]["analytics"].append(_allocation("REGION", "IDF", "100.00"))

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1)]
    assert result.message == AXIS_MISSING
    assert "line 1" in result.findings[0].detail
    assert "REGION" in result.findings[0].detail


def test_an_allocation_on_an_unknown_section_is_rule_10_naming_the_section(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][0]["analytics"] = [_allocation("SITE", "MARSEILLE", "100.00")]

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1)]
    assert "MARSEILLE" in result.findings[0].detail
    assert "SITE" in result.findings[0].detail


@pytest.mark.parametrize("analytics", [None, []], ids=["null", "empty list"])
def test_an_analytics_account_without_allocation_is_rejected_naming_the_axis(
    check: Check, edf_invoice: Document, analytics: list[Document] | None
) -> None:
    edf_invoice["lines"][0]["analytics"] = analytics

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1)]
    detail = result.findings[0].detail
    assert "line 1" in detail
    assert "606100" in detail
    assert "SITE" in detail


def test_allowing_entries_without_analytics_waives_a_line_with_no_allocation(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    setup_document["analytics"]["allow_entries_without_analytics"] = True
    del edf_invoice["lines"][0]["analytics"]

    assert check_in(setup_document, edf_invoice).accepted


def test_a_line_allocated_on_some_axes_only_is_rejected_for_each_missing_axis(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document)

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1)]
    assert "ACTIVITY" in result.findings[0].detail


def test_a_line_allocated_on_some_axes_only_is_rejected_even_when_entries_without_analytics_are_allowed(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document, allow_without=True)

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1)]
    assert "ACTIVITY" in result.findings[0].detail


def test_a_line_without_allocation_on_two_axes_gives_a_finding_per_axis(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document)
    del edf_invoice["lines"][0]["analytics"]

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1), ("analytic_axis_missing", 1)]
    details = " | ".join(finding.detail for finding in result.findings)
    assert "SITE" in details
    assert "ACTIVITY" in details


def test_a_line_allocated_on_every_axis_is_accepted(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document)
    edf_invoice["lines"][0]["analytics"].append(_allocation("ACTIVITY", "CONSEIL", "100.00"))

    assert check_in(setup_document, edf_invoice).accepted


def test_allocations_on_an_account_without_the_analytics_flag_are_accepted_when_right(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][1]["analytics"] = [_allocation("SITE", "LYON", "20.00")]

    assert check(edf_invoice).accepted


def test_allocations_on_an_account_without_the_analytics_flag_are_still_checked_by_rule_10(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][1]["analytics"] = [_allocation("SITE", "NICE", "20.00")]

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 2)]
    assert "NICE" in result.findings[0].detail


def test_allocations_on_an_account_without_the_analytics_flag_are_still_checked_by_rule_11(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][1]["analytics"] = [_allocation("SITE", "LYON", "15.00")]

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_allocation_incorrect", 2)]
    assert result.message == ALLOCATION_INCORRECT


def test_allocations_that_do_not_add_up_to_the_line_are_rule_11_naming_axis_and_amounts(
    check: Check, edf_invoice: Document
) -> None:
    edf_invoice["lines"][0]["analytics"] = [
        _allocation("SITE", "PARIS", "60.00"),
        _allocation("SITE", "LYON", "30.00"),
    ]

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_allocation_incorrect", 1)]
    detail = result.findings[0].detail
    assert "line 1" in detail
    assert "SITE" in detail
    assert "90.00" in detail
    assert "100.00" in detail


def test_allocations_over_the_line_amount_are_rule_11(check: Check, edf_invoice: Document) -> None:
    edf_invoice["lines"][0]["analytics"].append(_allocation("SITE", "LYON", "0.01"))

    result = check(edf_invoice)

    assert _codes(result) == [("analytic_allocation_incorrect", 1)]
    assert "100.01" in result.findings[0].detail


def test_allocations_split_in_cents_add_up_as_decimals(check: Check, edf_invoice: Document) -> None:
    edf_invoice["lines"][0]["analytics"] = [
        _allocation("SITE", "PARIS", "33.33"),
        _allocation("SITE", "LYON", "33.33"),
        _allocation("SITE", "PARIS", "33.34"),
    ]

    assert check(edf_invoice).accepted


def test_a_credit_line_is_allocated_on_its_amount_taken_as_positive(check: Check) -> None:
    entry = {
        "id": "sale-split",
        "journal": "VTE",
        "date": "2026-02-05",
        "lines": [
            {"account": "411000", "auxiliary": "CDUPONT", "debit": "120.00"},
            {
                "account": "706000",
                "credit": "100.00",
                "analytics": [
                    _allocation("SITE", "PARIS", "70.00"),
                    _allocation("SITE", "LYON", "30.00"),
                ],
            },
            {"account": "445710", "credit": "20.00"},
        ],
    }

    assert check(entry).accepted


def test_rule_11_counts_a_section_reported_by_rule_10(check: Check, edf_invoice: Document) -> None:
    edf_invoice["lines"][0]["analytics"] = [
        _allocation("SITE", "PARIS", "60.00"),
        _allocation("SITE", "MARSEILLE", "40.00"),
    ]
    assert _codes(check(edf_invoice)) == [("analytic_axis_missing", 1)]

    edf_invoice["lines"][0]["analytics"][1]["amount"] = "30.00"
    result = check(edf_invoice)

    assert _codes(result) == [("analytic_axis_missing", 1), ("analytic_allocation_incorrect", 1)]
    assert "90.00" in result.findings[1].detail


def test_rule_11_leaves_an_unknown_axis_to_rule_10(check: Check, edf_invoice: Document) -> None:
    edf_invoice["lines"][1]["analytics"] = [_allocation("REGION", "IDF", "5.00")]

    assert _codes(check(edf_invoice)) == [("analytic_axis_missing", 2)]


def test_rule_11_checks_each_axis_on_its_own(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document)
    edf_invoice["lines"][0]["analytics"] += [
        _allocation("ACTIVITY", "CONSEIL", "50.00"),
        _allocation("ACTIVITY", "FORMATION", "40.00"),
    ]

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [("analytic_allocation_incorrect", 1)]
    assert "ACTIVITY" in result.findings[0].detail
    assert "90.00" in result.findings[0].detail


def test_rule_11_reports_every_axis_that_does_not_add_up(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document)
    edf_invoice["lines"][0]["analytics"] = [
        _allocation("SITE", "PARIS", "10.00"),
        _allocation("ACTIVITY", "CONSEIL", "20.00"),
    ]

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [
        ("analytic_allocation_incorrect", 1),
        ("analytic_allocation_incorrect", 1),
    ]
    details = " | ".join(finding.detail for finding in result.findings)
    assert "SITE" in details
    assert "ACTIVITY" in details


def test_rule_11_skips_a_line_with_both_debit_and_credit(check: Check) -> None:
    entry = {
        "id": "both-sides",
        "journal": "ACH",
        "date": "2026-03-14",
        "lines": [
            {
                "account": "606100",
                "debit": "100.00",
                "credit": "100.00",
                "analytics": [_allocation("SITE", "PARIS", "30.00")],
            },
        ],
    }

    assert _codes(check(entry)) == [("document_not_settled", 1)]


def test_rule_11_skips_a_line_without_amount(check: Check, edf_invoice: Document) -> None:
    edf_invoice["lines"].append(
        {"account": "606100", "analytics": [_allocation("SITE", "PARIS", "30.00")]}
    )

    assert _codes(check(edf_invoice)) == [("object_reference", 4)]


def test_rule_11_skips_a_line_without_account(check: Check, edf_invoice: Document) -> None:
    del edf_invoice["lines"][0]["account"]
    edf_invoice["lines"][0]["analytics"][0]["amount"] = "30.00"

    assert _codes(check(edf_invoice)) == [("object_reference", 1)]


def test_unknown_axes_and_missing_axes_and_wrong_totals_are_all_reported_in_rule_order(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    _with_activity_axis(setup_document)
    edf_invoice["lines"][0]["analytics"] = [_allocation("SITE", "PARIS", "99.00")]
    edf_invoice["lines"][1]["analytics"] = [_allocation("REGION", "IDF", "20.00")]

    result = check_in(setup_document, edf_invoice)

    assert _codes(result) == [
        ("analytic_axis_missing", 1),  # no allocation on ACTIVITY
        ("analytic_axis_missing", 2),  # REGION does not exist
        ("analytic_allocation_incorrect", 1),  # SITE: 99.00 of 100.00
    ]


def test_missing_axes_are_reported_in_the_same_order_whatever_the_order_of_the_setups_axes(
    check_in: CheckIn, setup_document: Document, edf_invoice: Document
) -> None:
    del edf_invoice["lines"][0]["analytics"]
    _with_activity_axis(setup_document)
    site_first = check_in(setup_document, edf_invoice)

    setup_document["analytics"]["axes"].reverse()
    activity_first = check_in(setup_document, edf_invoice)

    assert activity_first.as_dict() == site_first.as_dict()
