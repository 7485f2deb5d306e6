"""Rejections fixed in the ledger's settings, and the commands that fix them in ledgerbridge's own ledger.

The catalogue's remedies for these codes describe Sage GE's menus (or "in the ledger"): with
the built-in ledger the same fix is a change of the folder's setup, applied, then published
to the workspace so that the pre-flight sees it, then the entries marked verified again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ledgerbridge.domain.catalogue import CATALOGUE, Text
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.remedies import recognized_code

if TYPE_CHECKING:
    from ledgerbridge.workspace.entries import EntryRow

# The codes whose remedies offer a fix made in the ledger (the catalogue's "in the ledger"),
# in the order of the check, each with the change to make in the folder's setup document for
# each of those fixes, in the catalogue's order.
SETUP_CHANGES: dict[str, tuple[str, ...]] = {
    "record_not_found": (
        'the missing journal, account or third party added under "journals", "accounts" or'
        ' "third_parties"',
    ),
    "fiscal_year_not_open": (
        'at most two consecutive fiscal years "open" under "fiscal_years", one of them covering'
        " the date",
    ),
    "journal_locked": (
        'the journal\'s "status": "open" under "journals", or a fiscal year covering the date'
        ' under "fiscal_years"',
    ),
    "import_cursor_locked": ('the locked period taken out of "import_cursor" > "locked_periods"',),
    "account_locked": ('the account\'s "locked": false under "accounts"',),
    "analytic_axis_missing": (
        '"allow_entries_without_analytics": true under "analytics"',
        'the missing axis or section added under "analytics" > "axes"',
    ),
}


def in_the_ledger(code: str) -> tuple[Text, ...]:
    """The catalogue's fixes of `code` made in the ledger, in its order."""
    return tuple(fix for fix in CATALOGUE[code].remedies if "in the ledger" in fix.en.lower())


def _ledger_code(row: EntryRow) -> str | None:
    """The catalogue code of the rejection the row's remedy answers."""
    if row.status is Status.SYNC_FAILED:
        return recognized_code(row.code, row.message)
    if row.predicted is not None:
        return str(row.predicted["code"])
    return None


def _codes(row: EntryRow) -> list[str]:
    """The catalogue codes of the row's rejection: the code it answers, then its findings'."""
    findings = row.findings or (row.predicted or {}).get("findings") or ()
    first = _ledger_code(row)
    codes = [first] if first is not None else []
    codes += [str(finding["code"]) for finding in findings if finding.get("code") in CATALOGUE]
    return list(dict.fromkeys(codes))


def _as_first(action: str) -> str:
    """A fix as said first: a remedy may lead with a fix the catalogue gives as `Or ...`."""
    rest = action.removeprefix("Or ")
    return rest[:1].upper() + rest[1:]


def _changes(code: str, row: EntryRow) -> set[str]:
    """The setup changes of the fixes in the ledger that the row's own remedy offers (which
    follows its findings): none when no fix in the ledger would let the entry through."""
    assert row.remedy is not None
    offered = {_as_first(action) for action in row.remedy.actions}
    return {
        change
        for fix, change in zip(in_the_ledger(code), SETUP_CHANGES[code], strict=True)
        if _as_first(fix.en) in offered
    }


def ledger_side_steps(folder: str, rows: Iterable[EntryRow]) -> list[str]:
    """How to make, with ledgerbridge's own ledger, the fixes in the ledger that the rows'
    remedies offer: lines to print once, after the remedies; none when no remedy offers one.
    The entries to mark verified are those the change lets through: by the code they failed
    with when it lets through every failed entry of that code, else by id."""
    changes: dict[str, set[str]] = {}
    failed: dict[str, str] = {}  # the codes as failed entries carry them, for --code: theirs
    helped: dict[str, list[str]] = {}  # by the code carried, the failed entries let through
    unhelped: set[str] = set()  # the codes carried by failed entries a change does not help
    to_verify: list[str] = []
    for row in rows:
        if row.remedy is None:
            continue
        # Every code of the entry's findings, its rejection's first: a fix in the ledger may
        # be needed for each (an unknown journal, and a date after every fiscal year).
        offered = {
            code: changed
            for code in _codes(row)
            if code in SETUP_CHANGES and (changed := _changes(code, row))
        }
        if row.status is Status.SYNC_FAILED and row.code is not None and not offered:
            unhelped.add(row.code)
        if not offered:
            continue
        for code, changed in offered.items():
            changes.setdefault(code, set()).update(changed)
        if row.status is Status.SYNC_FAILED and row.code is not None:
            failed[row.code] = next(iter(offered))
            helped.setdefault(row.code, []).append(row.id)
        elif row.status is Status.TO_VERIFY:
            to_verify.append(row.id)
    if not changes:
        return []
    ordered = [code for code in SETUP_CHANGES if code in changes]
    rank = {code: position for position, code in enumerate(SETUP_CHANGES)}
    lines = [
        f"Fixes made in the ledger ({', '.join(ordered)}), with ledgerbridge's own ledger:",
        "  1. in the folder's setup file (the complete setup), make the change:",
        *(
            f"       {code}: "
            + ", or ".join(change for change in SETUP_CHANGES[code] if change in changes[code])
            for code in ordered
        ),
        "  2. ledgerbridge ledger apply --setup FILE",
        f"  3. ledgerbridge ledger resync-fiscal-years {folder}"
        "   (so that the pre-flight sees the change)",
    ]
    verify = [
        f"ledgerbridge entries verify {folder} "
        + (" ".join(helped[carried]) if carried in unhelped else f"--code {carried}")
        for carried in sorted(failed, key=lambda carried: (rank[failed[carried]], carried))
    ]
    if len(to_verify) == 1:
        verify.append(f"ledgerbridge entries verify {folder} {to_verify[0]}")
    elif to_verify:
        verify.append(f"ledgerbridge entries verify {folder} ID...   (the entries to verify)")
    if verify:
        lines.append(f"  4. {verify[0]}")
        lines.extend(f"     {command}" for command in verify[1:])
    else:
        lines.append("  4. nothing more: verified entries go at the next synchronization")
    return lines
