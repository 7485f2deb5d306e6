"""The rejections fixed in the ledger, and the built-in ledger's commands that fix them."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerbridge.cli.ledger_side_fixes import SETUP_CHANGES, ledger_side_steps
from ledgerbridge.domain.catalogue import CATALOGUE, check_rules
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.remedies import remedy_for
from ledgerbridge.workspace.entries import EntryRow

MESSAGES = {
    "collective_account": "Account (401000) or other is collective",
    "import_cursor_locked": "Import cursor locked",
    "journal_locked": "The OD journal is locked or read-only",
    "account_locked": "Account 626000 is locked",
}


def row(entry_id: str, status: Status, code: str, *, carried: str | None = None) -> EntryRow:
    """A failed row (the ledger's code, or `carried` for a foreign ledger's), or a predicted one."""
    message = MESSAGES[code]
    predicted: dict[str, Any] = {"code": code, "message": message, "findings": []}
    failed = status is Status.SYNC_FAILED
    return EntryRow(
        id=entry_id,
        revision=1,
        status=status,
        code=(carried or code) if failed else None,
        message=message if failed else None,
        findings=(),
        remedy=remedy_for(code, message),
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
        (Status.TO_VERIFY, "  4. ledgerbridge entries verify ACME ID...   (the entries to verify)"),
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
