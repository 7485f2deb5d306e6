"""Rejections fixed in the ledger's settings, and the commands that fix them in ledgerbridge's own ledger.

The catalogue's remedies for these codes describe Sage GE's menus (or "in the ledger"): with
the built-in ledger the same fix is a change of the folder's setup, applied, then published
to the workspace so that the pre-flight sees it, then the entries marked verified again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.remedies import recognized_code

if TYPE_CHECKING:
    from ledgerbridge.workspace.entries import EntryRow

# The codes whose remedies offer a fix made in the ledger (the catalogue's "in the ledger"),
# in the order of the check, each with the change to make in the folder's setup document.
SETUP_CHANGES: dict[str, str] = {
    "record_not_found": 'the missing journal, account or third party added under "journals",'
    ' "accounts" or "third_parties"',
    "fiscal_year_not_open": 'at most two consecutive fiscal years "open" under "fiscal_years",'
    " one of them covering the date",
    "journal_locked": 'the journal\'s "status": "open" under "journals", or a fiscal year'
    ' covering the date under "fiscal_years"',
    "import_cursor_locked": 'the locked period taken out of "import_cursor" > "locked_periods"',
    "account_locked": 'the account\'s "locked": false under "accounts"',
    "analytic_axis_missing": '"allow_entries_without_analytics": true under "analytics", or the'
    ' missing axis or section added under "analytics" > "axes"',
}


def _ledger_code(row: EntryRow) -> str | None:
    """The catalogue code of the rejection the row's remedy answers."""
    if row.status is Status.SYNC_FAILED:
        return recognized_code(row.code, row.message)
    if row.predicted is not None:
        return str(row.predicted["code"])
    return None


def ledger_side_steps(folder: str, rows: Iterable[EntryRow]) -> list[str]:
    """How to make, with ledgerbridge's own ledger, the fixes in the ledger that the rows'
    remedies offer: lines to print once, after the remedies; none when no remedy offers one."""
    codes: set[str] = set()
    failed: dict[str, str] = {}  # the codes as failed entries carry them, for --code: theirs
    to_verify = False
    for row in rows:
        if row.remedy is None:
            continue
        code = _ledger_code(row)
        if code not in SETUP_CHANGES:
            continue
        codes.add(code)
        if row.status is Status.SYNC_FAILED and row.code is not None:
            failed[row.code] = code
        elif row.status is Status.TO_VERIFY:
            to_verify = True
    if not codes:
        return []
    ordered = [code for code in SETUP_CHANGES if code in codes]
    rank = {code: position for position, code in enumerate(SETUP_CHANGES)}
    lines = [
        f"Fixes made in the ledger ({', '.join(ordered)}), with ledgerbridge's own ledger:",
        "  1. in the folder's setup file (the complete setup), make the change:",
        *(f"       {code}: {SETUP_CHANGES[code]}" for code in ordered),
        "  2. ledgerbridge ledger apply --setup FILE",
        f"  3. ledgerbridge ledger resync-fiscal-years {folder}"
        "   (so that the pre-flight sees the change)",
    ]
    verify = [
        f"ledgerbridge entries verify {folder} --code {carried}"
        for carried in sorted(failed, key=lambda carried: (rank[failed[carried]], carried))
    ]
    if to_verify:
        verify.append(f"ledgerbridge entries verify {folder} ID...   (the entries to verify)")
    if verify:
        lines.append(f"  4. {verify[0]}")
        lines.extend(f"     {command}" for command in verify[1:])
    else:
        lines.append("  4. nothing more: verified entries go at the next synchronization")
    return lines
