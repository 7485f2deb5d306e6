"""The rejections fixed in the ledger, and the built-in ledger's commands that fix them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ledgerbridge.cli.ledger_side_fixes import SETUP_CHANGES, in_the_ledger, ledger_side_steps
from ledgerbridge.domain.catalogue import CATALOGUE, check_rules
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.remedies import remedy_for
from ledgerbridge.workspace.entries import EntryRow

MESSAGES = {
    "collective_account": "Account (401000) or other is collective",
    "import_cursor_locked": "Import cursor locked",
    "journal_locked": "The OD journal is locked or read-only",
    "account_locked": "Account 626000 is locked",
    "record_not_found": "Record not found",
    "analytic_axis_missing": "The analytical axis does not exist. On-the-fly creation is not"
    " allowed",
}
UNKNOWN_SECTION = "line 1, allocation 1: section MARSEILLE does not exist on axis SITE"
NO_ALLOCATION = "line 2 on account 606100 has no allocation on axis SITE"
OTHER_ACCOUNTS_AUXILIARY = (
    "line 2: auxiliary account CDUPONT belongs to account 411000, not to 401000"
)
MISSING_JOURNAL = "journal XX does not exist in the folder"


def row(
    entry_id: str,
    status: Status,
    code: str,
    *,
    carried: str | None = None,
    details: tuple[str, ...] = (),
) -> EntryRow:
    """A failed row (the ledger's code, or `carried` for a foreign ledger's), or a predicted one,
    with findings of its code giving `details`."""
    message = MESSAGES[code]
    findings = [
        {
            "code": code,
            "line": int(detail.split()[1].rstrip(",:")),
            "message": message,
            "detail": detail,
        }
        if detail.startswith("line ")
        else {"code": code, "line": None, "message": message, "detail": detail}
        for detail in details
    ]
    predicted: dict[str, Any] = {"code": code, "message": message, "findings": findings}
    failed = status is Status.SYNC_FAILED
    return EntryRow(
        id=entry_id,
        revision=1,
        status=status,
        code=(carried or code) if failed else None,
        message=message if failed else None,
        findings=tuple(findings) if failed else (),
        remedy=remedy_for(code, message, findings),
        predicted=predicted,
        entry_number=None,
        fiscal_year=None,
    )


def test_the_codes_fixed_in_the_ledger_are_those_the_catalogue_says_so_of() -> None:
    in_the_ledger = {
        code
        for code, rejection in CATALOGUE.items()
        if any("in the ledger" in remedy.en.lower() for remedy in rejection.remedies)
    }
    assert set(SETUP_CHANGES) == in_the_ledger


def test_each_fix_in_the_ledger_has_its_setup_change() -> None:
    for code, changes in SETUP_CHANGES.items():
        assert len(changes) == len(in_the_ledger(code)), code


def test_the_codes_are_in_the_order_of_the_check() -> None:
    order = [rule.code for rule in check_rules()]
    assert list(SETUP_CHANGES) == [code for code in order if code in SETUP_CHANGES]


def test_each_code_fixed_in_the_ledger_is_named_once_with_its_verify_command() -> None:
    steps = ledger_side_steps(
        "PAINDOR",
        [
            row("a", Status.SYNC_FAILED, "account_locked"),
            row("b", Status.SYNC_FAILED, "import_cursor_locked"),
            row("c", Status.SYNC_FAILED, "account_locked"),
            row("d", Status.SYNC_FAILED, "collective_account"),
        ],
    )
    assert steps[0] == (
        "Fixes made in the ledger (import_cursor_locked, account_locked), with ledgerbridge's"
        " own ledger:"
    )
    assert "  3. ledgerbridge ledger resync-fiscal-years PAINDOR" in steps[5]
    assert steps[6:] == [
        "  4. ledgerbridge entries verify PAINDOR --code import_cursor_locked",
        "     ledgerbridge entries verify PAINDOR --code account_locked",
    ]


def test_a_foreign_ledgers_code_is_the_one_verify_is_given() -> None:
    steps = ledger_side_steps(
        "ACME", [row("a", Status.SYNC_FAILED, "import_cursor_locked", carried="ERR_CURSOR")]
    )
    assert "Fixes made in the ledger (import_cursor_locked)" in steps[0]
    assert steps[-1] == "  4. ledgerbridge entries verify ACME --code ERR_CURSOR"


@pytest.mark.parametrize(
    ("status", "last"),
    [
        (Status.TO_VERIFY, "  4. ledgerbridge entries verify ACME od"),
        (Status.VERIFIED, "  4. nothing more: verified entries go at the next synchronization"),
    ],
)
def test_a_predicted_rejection_ends_with_what_its_entries_still_need(
    status: Status, last: str
) -> None:
    steps = ledger_side_steps("ACME", [row("od", status, "journal_locked")])
    assert steps[-1] == last


def test_no_fix_in_the_ledger_says_nothing() -> None:
    assert ledger_side_steps("ACME", [row("d", Status.SYNC_FAILED, "collective_account")]) == []
    assert ledger_side_steps("ACME", []) == []


def test_entries_to_verify_are_named_by_id_when_one_else_the_placeholder() -> None:
    steps = ledger_side_steps(
        "ACME",
        [
            row("od", Status.TO_VERIFY, "journal_locked"),
            row("od2", Status.TO_VERIFY, "journal_locked"),
        ],
    )
    assert steps[-1] == "  4. ledgerbridge entries verify ACME ID...   (the entries to verify)"


def analytic_change(steps: list[str]) -> str:
    [change] = [step for step in steps if step.startswith("       analytic_axis_missing: ")]
    return change.removeprefix("       analytic_axis_missing: ")


@pytest.mark.parametrize("status", [Status.SYNC_FAILED, Status.TO_VERIFY])
def test_an_unknown_section_is_told_to_add_it_never_to_waive_analytics(status: Status) -> None:
    steps = ledger_side_steps(
        "ACME", [row("s", status, "analytic_axis_missing", details=(UNKNOWN_SECTION,))]
    )
    assert analytic_change(steps) == 'the missing axis or section added under "analytics" > "axes"'
    assert not any("allow_entries_without_analytics" in step for step in steps)


def test_a_line_without_allocation_is_told_both_changes_the_waiver_first() -> None:
    waivable = row("w", Status.SYNC_FAILED, "analytic_axis_missing", details=(NO_ALLOCATION,))
    unknown = row("s", Status.SYNC_FAILED, "analytic_axis_missing", details=(UNKNOWN_SECTION,))
    for rows in ([waivable], [unknown, waivable]):
        assert analytic_change(ledger_side_steps("ACME", rows)) == (
            '"allow_entries_without_analytics": true under "analytics", or the missing axis or'
            ' section added under "analytics" > "axes"'
        )


@pytest.mark.parametrize("status", [Status.SYNC_FAILED, Status.TO_VERIFY])
def test_an_auxiliary_account_of_another_account_gives_no_step_in_the_ledger(
    status: Status,
) -> None:
    entry = row("c", status, "record_not_found", details=(OTHER_ACCOUNTS_AUXILIARY,))
    assert ledger_side_steps("ACME", [entry]) == []

    missing = row("j", Status.SYNC_FAILED, "record_not_found", details=(MISSING_JOURNAL,))
    steps = ledger_side_steps("ACME", [entry, missing])
    # Beside a failed entry of the same code, --code would mark it verified again in vain.
    last = "j" if status is Status.SYNC_FAILED else "--code record_not_found"
    assert steps[-1] == f"  4. ledgerbridge entries verify ACME {last}"


@pytest.mark.parametrize("status", [Status.SYNC_FAILED, Status.TO_VERIFY])
def test_every_code_of_an_entry_s_findings_has_its_change_told(status: Status) -> None:
    # An unknown journal (record_not_found, the entry's code) and a date after every fiscal
    # year (journal_locked): both are fixed in the ledger.
    failed = row("jx", status, "record_not_found", details=(MISSING_JOURNAL,))
    after = {
        "code": "journal_locked",
        "line": None,
        "message": "The XX journal is locked or read-only",
        "detail": "the date 2027-01-15 is after every fiscal year: its fiscal year is not opened",
    }
    findings = (*failed.findings, after) if status is Status.SYNC_FAILED else failed.findings
    predicted = {**(failed.predicted or {})}
    predicted["findings"] = [*predicted["findings"], after]
    both = dataclasses.replace(
        failed,
        findings=findings,
        predicted=predicted,
        remedy=remedy_for("record_not_found", "Record not found", [*predicted["findings"]]),
    )

    steps = ledger_side_steps("ACME", [both])

    assert steps[0] == (
        "Fixes made in the ledger (record_not_found, journal_locked), with ledgerbridge's own"
        " ledger:"
    )
    assert any(step.strip().startswith("journal_locked: ") for step in steps)
