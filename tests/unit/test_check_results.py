"""The shape of a check result (§4.3), the exact messages (§5) and the order of findings (§5.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.domain.findings import CheckResult

Document = dict[str, Any]
Check = Callable[[Document], CheckResult]


def test_an_accepted_result_has_no_code_no_message_and_no_findings(
    check: Check, edf_invoice: Document
) -> None:
    result = check(edf_invoice)

    assert result.accepted
    assert result.as_dict() == {
        "id": "inv-2026-0042",
        "status": "accepted",
        "code": None,
        "message": None,
        "findings": [],
    }


def test_a_rejected_result_reads_as_the_spec_example(check: Check, edf_invoice: Document) -> None:
    del edf_invoice["lines"][2]["auxiliary"]

    assert check(edf_invoice).as_dict() == {
        "id": "inv-2026-0042",
        "status": "rejected",
        "code": "collective_account",
        "message": "Account (401000) or other is collective",
        "findings": [
            {
                "code": "collective_account",
                "line": 3,
                "message": "Account (401000) or other is collective",
                "detail": "line 3 uses collective account 401000 without an auxiliary account",
            }
        ],
    }


def _without_journal(entry: Document) -> None:
    del entry["journal"]


def _long_label(entry: Document) -> None:
    entry["label"] = "x" * 70


def _credit_short_by_a_cent(entry: Document) -> None:
    entry["lines"][2]["credit"] = "119.99"


def _unknown_vat_account(entry: Document) -> None:
    entry["lines"][1]["account"] = "445999"


def _date_in_closed_2024(entry: Document) -> None:
    entry["date"] = "2024-06-15"


def _read_only_od_journal(entry: Document) -> None:
    entry["journal"] = "OD"


def _locked_purchase_journal(entry: Document) -> None:
    entry["journal"] = "HA"


def _date_in_locked_period(entry: Document) -> None:
    entry["date"] = "2025-03-14"


def _supplier_line_without_auxiliary(entry: Document) -> None:
    del entry["lines"][2]["auxiliary"]


def _vat_on_locked_account(entry: Document) -> None:
    entry["lines"][1]["account"] = "626000"


def _supplies_without_allocation(entry: Document) -> None:
    del entry["lines"][0]["analytics"]


def _allocation_short_of_the_line(entry: Document) -> None:
    entry["lines"][0]["analytics"][0]["amount"] = "90.00"


EXACT_MESSAGES = [
    (
        _without_journal,
        "object_reference",
        "Object reference not set to an instance of an object.",
    ),
    (_long_label, "value_truncated", "String or binary data would be truncated."),
    (_credit_short_by_a_cent, "document_not_settled", "The document is not settled"),
    (_unknown_vat_account, "record_not_found", "Record not found"),
    (
        _date_in_closed_2024,
        "fiscal_year_not_open",
        "The fiscal year (2024) is not part of the last 2 open fiscal years",
    ),
    (_read_only_od_journal, "journal_locked", "The OD journal is locked or read-only"),
    (_locked_purchase_journal, "journal_locked", "The purchase journal is locked or read-only"),
    (_date_in_locked_period, "import_cursor_locked", "Import cursor locked"),
    (
        _supplier_line_without_auxiliary,
        "collective_account",
        "Account (401000) or other is collective",
    ),
    (_vat_on_locked_account, "account_locked", "Account 626000 is locked"),
    (
        _supplies_without_allocation,
        "analytic_axis_missing",
        "The analytical axis does not exist. On-the-fly creation is not allowed",
    ),
    (
        _allocation_short_of_the_line,
        "analytic_allocation_incorrect",
        "At least one line has a failure status; the allocation of the line amount is"
        " incorrect on at least one of the analytical axes",
    ),
]


@pytest.mark.parametrize(
    ("spoil", "code", "message"),
    EXACT_MESSAGES,
    ids=[spoil.__name__.strip("_") for spoil, _, _ in EXACT_MESSAGES],
)
def test_each_code_carries_the_ledgers_exact_message(
    check: Check,
    edf_invoice: Document,
    spoil: Callable[[Document], None],
    code: str,
    message: str,
) -> None:
    spoil(edf_invoice)

    result = check(edf_invoice)

    assert [finding.code for finding in result.findings] == [code]
    assert result.status == "rejected"
    assert result.code == code
    assert result.message == message
    assert result.as_dict()["findings"][0]["message"] == message


def test_every_code_of_the_check_is_shown_by_one_spoiled_entry() -> None:
    assert {code for _, code, _ in EXACT_MESSAGES} == {
        "object_reference",
        "value_truncated",
        "document_not_settled",
        "record_not_found",
        "fiscal_year_not_open",
        "journal_locked",
        "import_cursor_locked",
        "collective_account",
        "account_locked",
        "analytic_axis_missing",
        "analytic_allocation_incorrect",
    }


def test_findings_come_by_rule_then_entry_level_first_then_by_line(check: Check) -> None:
    entry = {
        "id": "many-problems",
        "journal": "OD",
        "reference": "R" * 14,
        "lines": [
            {"account": "401000", "label": "Fournisseur", "debit": "10.00"},
            {"account": "999999", "label": "y" * 70, "credit": "5.00"},
            {"label": "Sans compte", "debit": "1.00", "credit": "1.00"},
            {"account": "626000", "label": "Sans montant", "debit": ""},
        ],
    }

    result = check(entry)

    assert [(finding.code, finding.line) for finding in result.findings] == [
        ("object_reference", None),  # no date
        ("object_reference", 3),  # no account
        ("object_reference", 4),  # neither debit nor credit
        ("value_truncated", None),  # the reference
        ("value_truncated", 2),
        ("document_not_settled", None),  # 11.00 against 6.00
        ("document_not_settled", 3),  # both a debit and a credit
        ("record_not_found", 2),
        ("journal_locked", None),
        ("collective_account", 1),
        ("account_locked", 4),
    ]
    assert result.code == "object_reference"
    assert result.message == "Object reference not set to an instance of an object."


def test_the_entry_level_finding_of_a_rule_comes_before_its_line_findings(check: Check) -> None:
    entry = {
        "id": "unknown-everything",
        "journal": "XYZ",
        "date": "2026-03-14",
        "lines": [
            {"account": "999001", "debit": "10.00"},
            {"account": "999002", "credit": "10.00"},
        ],
    }

    result = check(entry)

    assert [(finding.code, finding.line) for finding in result.findings] == [
        ("record_not_found", None),
        ("record_not_found", 1),
        ("record_not_found", 2),
    ]


def test_the_entrys_code_is_that_of_its_first_finding_even_when_a_later_line_fails_earlier_rules(
    check: Check, edf_invoice: Document
) -> None:
    del edf_invoice["lines"][2]["auxiliary"]  # rule 8, line 3
    edf_invoice["lines"][1]["label"] = "T" * 70  # rule 2, line 2

    result = check(edf_invoice)

    assert [(finding.code, finding.line) for finding in result.findings] == [
        ("value_truncated", 2),
        ("collective_account", 3),
    ]
    assert result.code == "value_truncated"
    assert result.message == "String or binary data would be truncated."


def test_several_lines_failing_one_rule_give_one_finding_each_in_line_order(
    check: Check,
) -> None:
    entry = {
        "id": "two-collectives",
        "journal": "BQ",
        "date": "2026-04-02",
        "lines": [
            {"account": "512000", "debit": "50.00"},
            {"account": "411000", "credit": "20.00"},
            {"account": "401000", "credit": "30.00"},
        ],
    }

    result = check(entry)

    assert [(finding.code, finding.line, finding.message) for finding in result.findings] == [
        ("collective_account", 2, "Account (411000) or other is collective"),
        ("collective_account", 3, "Account (401000) or other is collective"),
    ]
    assert result.message == "Account (411000) or other is collective"
