"""The sage-ge consistency check (§5): one function, used by the ledger and the pre-flight.

Each rule is a small pure function yielding findings; `check_entry` runs them in the
order of §5. Most entries pass every rule, so `check_entry` first asks
`_passes_every_rule`, one quick pass over the entry that says whether any rule would
find something; only when one would do the rules run, to say what and where.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from ledgerbridge.domain.entries import Allocation, Entry, Line
from ledgerbridge.domain.findings import CheckResult, Finding
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.values import format_amount

Rule = Callable[[Entry, FolderIndex], Iterator[Finding]]
ZERO = Decimal(0)


def _lines(entry: Entry) -> list[Line]:
    return entry.lines or []


def _object_reference(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    code = "object_reference"
    if not entry.journal:
        yield Finding(code, None, "the entry has no journal")
    if not entry.date:
        yield Finding(code, None, "the entry has no date")
    if not entry.lines:
        yield Finding(code, None, "the entry has no lines")
    for number, line in enumerate(_lines(entry), 1):
        if not line.account:
            yield Finding(code, number, f"line {number} has no account")
        if not line.debit and not line.credit:
            yield Finding(code, number, f"line {number} has neither a debit nor a credit")


def _value_truncated(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    code = "value_truncated"
    reference_limit, label_limit = folder.reference_limit, folder.label_limit
    if entry.reference and len(entry.reference) > reference_limit:
        yield Finding(
            code,
            None,
            f"the reference is {counted(len(entry.reference), 'character', 'characters')} long,"
            f" the folder allows {reference_limit}",
        )
    if entry.label and len(entry.label) > label_limit:
        yield Finding(
            code,
            None,
            f"the label is {counted(len(entry.label), 'character', 'characters')} long,"
            f" the folder allows {label_limit}",
        )
    for number, line in enumerate(_lines(entry), 1):
        if line.label and len(line.label) > label_limit:
            yield Finding(
                code,
                number,
                f"line {number}'s label is {counted(len(line.label), 'character', 'characters')}"
                f" long, the folder allows {label_limit}",
            )


def _document_not_settled(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    code = "document_not_settled"
    lines = _lines(entry)
    debit = sum((line.debit or ZERO for line in lines), ZERO)
    credit = sum((line.credit or ZERO for line in lines), ZERO)
    if debit != credit:
        yield Finding(
            code,
            None,
            f"total debit {format_amount(debit)} differs from total credit {format_amount(credit)}"
            f" (difference {format_amount(abs(debit - credit))})",
        )
    for number, line in enumerate(lines, 1):
        if line.debit and line.credit:
            yield Finding(
                code,
                number,
                f"line {number} has both a debit ({format_amount(line.debit)})"
                f" and a credit ({format_amount(line.credit)})",
            )


def _record_not_found(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    code = "record_not_found"
    if entry.journal and entry.journal not in folder.journals:
        yield Finding(code, None, f"journal {entry.journal} does not exist in the folder")
    for number, line in enumerate(_lines(entry), 1):
        if line.account and line.account not in folder.accounts:
            yield Finding(
                code,
                number,
                f"line {number} uses account {line.account}, which does not exist in the folder",
            )
        if not line.auxiliary:
            continue
        owner = folder.auxiliary_accounts.get(line.auxiliary)
        if owner is None:
            yield Finding(
                code,
                number,
                f"line {number} uses auxiliary account {line.auxiliary}, which does not exist in the folder",
            )
        elif line.account and owner != line.account:
            yield Finding(
                code,
                number,
                f"line {number}: auxiliary account {line.auxiliary} belongs to account {owner},"
                f" not to {line.account}",
            )


def _fiscal_year_not_open(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    if not entry.date:
        return
    code = "fiscal_year_not_open"
    day = entry.date
    place = folder.place(day)
    year = place.year
    if year is not None:
        if year.status != "open":
            yield Finding(
                code,
                None,
                f"the date {day} is in fiscal year {year.code}, which is closed",
                (("year", year.code),),
            )
        elif year.code not in folder.latest_open:
            latest = ", ".join(sorted(folder.latest_open))
            yield Finding(
                code,
                None,
                f"the date {day} is in fiscal year {year.code}, which is open but not one of"
                f" the two latest open fiscal years ({latest})",
                (("year", year.code),),
            )
        return
    if place.after_all:
        return  # rule 6: its fiscal year is not opened
    params = (("year", str(day.year)),)
    if place.before_all:
        first = folder.fiscal_years[0]
        detail = f"the date {day} is before every fiscal year (the first, {first.code}, starts on {first.start})"
    elif place.between is not None:
        before, after = place.between
        detail = (
            f"the date {day} falls between fiscal years {before.code} (ending {before.end})"
            f" and {after.code} (starting {after.start})"
        )
    else:
        detail = f"the date {day} has no fiscal year: the folder has none"
    yield Finding(code, None, detail, params)


def _journal_locked(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    if not entry.journal:
        return
    code = "journal_locked"
    journal = folder.journals.get(entry.journal)
    kind = journal.kind if journal is not None else entry.journal
    if journal is not None and journal.status != "open":
        state = "locked" if journal.status == "locked" else "read-only"
        # A journal whose kind is its code (`OD`) is named once: not `journal OD (OD)`.
        same = journal.kind.casefold() == journal.code.casefold()
        named = journal.code if same else f"{journal.code} ({journal.kind})"
        yield Finding(code, None, f"journal {named} is {state}", (("kind", kind),))
    if entry.date and folder.fiscal_years and entry.date > folder.fiscal_years[-1].end:
        last = folder.fiscal_years[-1]
        yield Finding(
            code,
            None,
            f"the date {entry.date} is after every fiscal year (the last, {last.code}, ends on"
            f" {last.end}): its fiscal year is not opened",
            (("kind", kind),),
        )


def _import_cursor_locked(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    if not entry.date:
        return
    for period in folder.locked_periods:
        if period.covers(entry.date):
            yield Finding(
                "import_cursor_locked",
                None,
                f"the date {entry.date} is in the import cursor's locked period {period.start} to {period.end}",
            )
            return


def _collective_account(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    for number, line in enumerate(_lines(entry), 1):
        account = folder.accounts.get(line.account) if line.account else None
        if account is not None and account.collective and not line.auxiliary:
            yield Finding(
                "collective_account",
                number,
                f"line {number} uses collective account {account.number} without an auxiliary account",
                (("account", account.number),),
            )


def _account_locked(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    for number, line in enumerate(_lines(entry), 1):
        account = folder.accounts.get(line.account) if line.account else None
        if account is not None and account.locked:
            yield Finding(
                "account_locked",
                number,
                f"line {number} uses locked account {account.number}",
                (("account", account.number),),
            )


def _analytic_axis_missing(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    code = "analytic_axis_missing"
    for number, line in enumerate(_lines(entry), 1):
        allocations = line.analytics or []
        for position, allocation in enumerate(allocations, 1):
            where = f"line {number}, allocation {position}"
            if not allocation.axis:
                yield Finding(code, number, f"{where} names no axis")
            elif allocation.axis not in folder.axes:
                yield Finding(
                    code, number, f"{where}: axis {allocation.axis} does not exist in the folder"
                )
            elif not allocation.section:
                yield Finding(code, number, f"{where} names no section on axis {allocation.axis}")
            elif allocation.section not in folder.axes[allocation.axis]:
                yield Finding(
                    code,
                    number,
                    f"{where}: section {allocation.section} does not exist on axis {allocation.axis}",
                )
        account = folder.accounts.get(line.account) if line.account else None
        if account is None or not account.analytics:
            continue
        if not allocations and folder.allow_entries_without_analytics:
            continue
        allocated = {allocation.axis for allocation in allocations}
        for axis in folder.axis_order:
            if axis not in allocated:
                yield Finding(
                    code,
                    number,
                    f"line {number} on account {account.number} has no allocation on axis {axis}",
                )


def _analytic_allocation_incorrect(entry: Entry, folder: FolderIndex) -> Iterator[Finding]:
    for number, line in enumerate(_lines(entry), 1):
        if not line.analytics or not line.account or (line.debit and line.credit):
            continue
        amount = line.debit or line.credit
        if not amount:
            continue  # reported by rule 1
        totals: dict[str, Decimal] = {}
        for allocation in line.analytics:
            if allocation.axis in folder.axes:
                totals[allocation.axis] = totals.get(allocation.axis, ZERO) + (
                    allocation.amount or ZERO
                )
        for axis, total in totals.items():
            if total != amount:
                yield Finding(
                    "analytic_allocation_incorrect",
                    number,
                    f"line {number}: allocations on axis {axis} add up to {format_amount(total)},"
                    f" the line's amount is {format_amount(amount)}",
                )


RULES: tuple[Rule, ...] = (
    _object_reference,
    _value_truncated,
    _document_not_settled,
    _record_not_found,
    _fiscal_year_not_open,
    _journal_locked,
    _import_cursor_locked,
    _collective_account,
    _account_locked,
    _analytic_axis_missing,
    _analytic_allocation_incorrect,
)


def _passes_every_rule(entry: Entry, folder: FolderIndex) -> bool:
    """Whether no rule of `RULES` would find anything in the entry, in one pass over its lines.

    Exactly the conditions of rules 1 to 11 of §5 that an accepted entry meets, each marked
    with its rule; a False sends the entry through the rules themselves for the findings.
    """
    lines = entry.lines
    if not lines or not entry.date or entry.journal not in folder.open_journals:
        return False  # rule 1: no journal, date or lines; rule 4: unknown journal; 6: not open
    if not folder.takes_entries_on(entry.date):
        return False  # rule 5: fiscal year; rule 6: after every fiscal year; rule 7: locked period
    label_limit = folder.label_limit
    reference, label = entry.reference, entry.label
    if (reference and len(reference) > folder.reference_limit) or (
        label and len(label) > label_limit
    ):
        return False  # rule 2
    open_accounts, collective_accounts = folder.open_accounts, folder.collective_accounts
    auxiliary_accounts = folder.auxiliary_accounts
    unallocated_refused = folder.unallocated_refused
    total_debit = total_credit = ZERO
    for line in lines:
        debit, credit = line.debit, line.credit
        if debit:
            if credit:
                return False  # rule 3: both a debit and a credit
            amount = debit
            total_debit += debit
        elif credit:
            amount = credit
            total_credit += credit
        else:
            return False  # rule 1: neither a debit nor a credit
        account = line.account
        if account not in open_accounts:
            return False  # rule 1: no account; rule 4: unknown account; rule 9: locked account
        if line.label and len(line.label) > label_limit:
            return False  # rule 2
        if line.auxiliary:
            if auxiliary_accounts.get(line.auxiliary) != account:
                return False  # rule 4: unknown auxiliary account, or another account's
        elif account in collective_accounts:
            return False  # rule 8
        if line.analytics:
            if not _allocations_pass(line.analytics, account, amount, folder):
                return False  # rules 10 and 11
        elif account in unallocated_refused:
            return False  # rule 10: an analytic account's line with no allocation at all
    return total_debit == total_credit  # rule 3: balanced


def _allocations_pass(
    allocations: list[Allocation], account: str, amount: Decimal, folder: FolderIndex
) -> bool:
    """Rules 10 and 11 for a line on an existing `account`, of one side `amount` (not zero)."""
    axes = folder.axes
    if len(allocations) == 1:  # the most common: the whole line on one section
        allocation = allocations[0]
        axis = allocation.axis
        if not axis or allocation.section not in axes.get(axis, ()):
            return False  # rule 10: no axis, or no section, or one the folder does not have
        if account in folder.analytic_accounts and len(axes) > 1:
            return False  # rule 10: the other axes without allocation
        return allocation.amount == amount  # rule 11
    totals: dict[str, Decimal] = {}
    for allocation in allocations:
        axis = allocation.axis
        if not axis or allocation.section not in axes.get(axis, ()):
            return False  # rule 10: no axis, or no section, or one the folder does not have
        totals[axis] = totals.get(axis, ZERO) + (allocation.amount or ZERO)
    if account in folder.analytic_accounts and not totals.keys() >= axes.keys():
        return False  # rule 10: an axis without allocation
    # rule 11: the allocations on each axis add up to the line's amount
    return all(total == amount for total in totals.values())


def check_entry(entry: Entry, folder: FolderIndex) -> CheckResult:
    """Every finding of the sage-ge check on one entry, in the order of §5.

    Each rule yields its entry-level findings first, then its line findings by line number,
    so running the rules in order gives the findings in the order of §5.1.
    """
    if _passes_every_rule(entry, folder):
        return CheckResult(entry.id)
    findings = tuple(finding for rule in RULES for finding in rule(entry, folder))
    return CheckResult(id=entry.id, findings=findings)
