"""Entries in the workspace: the lists, marking verified, editing, excluding, restoring, history.

Every status change goes through the lifecycle table (workspace/transitions.py); an
illegal one refuses the whole command and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.connectors.base import DepositRefused
from ledgerbridge.domain.catalogue import CATALOGUE
from ledgerbridge.domain.entries import Entry, parse_entry
from ledgerbridge.domain.fingerprint import fingerprint
from ledgerbridge.domain.lifecycle import Action, Status, next_status
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.merge_patch import ShortenedList, merge_patch, shortened_lists
from ledgerbridge.domain.remedies import Remedy, remedy_for
from ledgerbridge.workspace.clients import require_client
from ledgerbridge.workspace.errors import UnknownEntry, UnknownRejectionCode
from ledgerbridge.workspace.mirror import (
    PREDICTED_STATUSES,
    Preflight,
    content_of,
    entry_of,
    prediction_values,
    preflight_of,
)
from ledgerbridge.workspace.tables import entries, history_events, revisions, with_content
from ledgerbridge.workspace.transitions import (
    Change,
    History,
    NewRevision,
    apply_action,
    current_states,
    history_of,
    move_all,
    revise,
)

ACCOUNTANT = "accountant"
# The codes a failed entry can carry: the ledger's rejections (the catalogue's), and a
# batch the relay refused for good.
FAILURE_CODES = (*CATALOGUE, DepositRefused.code)
_LOOKUP = 500
# Past this many entries to read whole, one scan of the client beats lookups by id.
_SCAN_FROM = 5000


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One row of a list: an entry at its current revision (SPEC §7 `entries list`)."""

    id: str
    revision: int
    status: Status
    code: str | None  # the ledger's own, verbatim; only while the entry is failed
    message: str | None
    findings: tuple[Mapping[str, Any], ...]
    remedy: Remedy | None  # for a failed entry, or one the pre-flight predicts will fail
    predicted: Mapping[str, Any] | None  # the pre-flight's rejection: code, message, findings
    entry_number: int | None  # once synchronized; numbering restarts with each fiscal year
    fiscal_year: str | None  # the code of the fiscal year the ledger numbered it in

    @property
    def ledger_number(self) -> str | None:
        """The entry number as the ledger shows it: `FY25/1`, fiscal year then number."""
        if self.entry_number is None:
            return None
        if self.fiscal_year is None:
            return str(self.entry_number)
        return f"{self.fiscal_year}/{self.entry_number}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "status": self.status.value,
            "code": self.code,
            "message": self.message,
            "findings": [dict(finding) for finding in self.findings],
            "remedy": self.remedy.as_dict() if self.remedy is not None else None,
            "predicted": dict(self.predicted) if self.predicted is not None else None,
            "entry_number": self.entry_number,
            "fiscal_year": self.fiscal_year,
        }

    def as_json(self) -> str:
        """`as_dict()` as JSON; the row of an entry with nothing to say, by far the most
        common in a long list, is written without the general encoder."""
        if self.findings or self.remedy is not None or self.predicted is not None or self.code:
            return json.dumps(self.as_dict(), ensure_ascii=False)
        number = "null" if self.entry_number is None else str(self.entry_number)
        year = (
            "null" if self.fiscal_year is None else json.dumps(self.fiscal_year, ensure_ascii=False)
        )
        return (
            f'{{"id": {json.dumps(self.id, ensure_ascii=False)}, "revision": {self.revision},'
            f' "status": "{self.status.value}", "code": null, "message": null, "findings": [],'
            f' "remedy": null, "predicted": null, "entry_number": {number},'
            f' "fiscal_year": {year}}}'
        )


@dataclass(frozen=True, slots=True)
class EntryView:
    """One entry as `entries show` gives it: its row, and its current revision's document."""

    row: EntryRow
    document: Mapping[str, Any]  # the §4.2 entry, as the workspace keeps and sends it

    def as_dict(self) -> dict[str, Any]:
        return {**self.row.as_dict(), "document": dict(self.document)}


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One line of an entry's history: a status change, its import or an edit."""

    at: datetime
    actor: str  # accountant | import | sync | ledger | nightly
    from_status: Status | None  # None on import
    to_status: Status
    message: str | None
    revision: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "from": self.from_status.value if self.from_status is not None else None,
            "to": self.to_status.value,
            "message": self.message,
            "revision": self.revision,
        }


@dataclass(frozen=True, slots=True)
class EditOutcome:
    id: str
    revision: int
    status: Status
    changed: bool  # False when the patched entry is the same as before
    # The lists the patch replaced with fewer items (a merge patch replaces a list whole).
    shortened: tuple[ShortenedList, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": "edited" if self.changed else "unchanged",
            "revision": self.revision,
            "status": self.status.value,
        }

    def describe(self) -> str:
        if self.changed:
            return (
                f"Entry {self.id} edited: revision {self.revision}, back to {self.status.shown_as}."
            )
        return (
            f"Entry {self.id} unchanged: the patch changes nothing (still revision"
            f" {self.revision}, {self.status.shown_as})."
        )


# -- lists ---------------------------------------------------------------------------------

_ROW_COLUMNS = (
    entries.c.entry_id,
    entries.c.revision,
    entries.c.status,
    entries.c.code,
    entries.c.message,
    entries.c.findings,
    entries.c.entry_number,
    entries.c.fiscal_year,
    entries.c.predicted,
    entries.c.predicted_against,
)


def list_entries(
    connection: Connection, folder: str, statuses: Collection[Status] | None = None
) -> list[EntryRow]:
    """The client's entries (of the given statuses, else all), one row each, by id."""
    require_client(connection, folder)
    preflight = preflight_of(connection, folder)
    query = sa.select(*_ROW_COLUMNS).where(entries.c.client == folder)
    if statuses:
        query = query.where(entries.c.status.in_([status.value for status in statuses]))
    rows = connection.execute(query.order_by(entries.c.entry_id)).all()
    wanted = [row.entry_id for row in rows if _needs_entry(row, preflight)]
    contents = _contents(connection, folder, wanted, statuses)
    return [_entry_row(row, preflight, contents) for row in rows]


def show_entry(connection: Connection, folder: str, entry_id: str) -> EntryView:
    """The entry at its current revision: its row as a list gives it, and its document."""
    require_client(connection, folder)
    row = connection.execute(
        sa.select(*_ROW_COLUMNS, revisions.c.content)
        .select_from(with_content)
        .where(entries.c.client == folder, entries.c.entry_id == entry_id)
    ).first()
    if row is None:
        raise UnknownEntry(folder, entry_id)
    preflight = preflight_of(connection, folder)
    return EntryView(_entry_row(row, preflight, {entry_id: row.content}), json.loads(row.content))


def _needs_entry(row: sa.Row[Any], preflight: Preflight | None) -> bool:
    """Whether the entry itself must be read: for a remedy, or to predict it again."""
    status = Status(row.status)
    if status is Status.SYNC_FAILED:
        return True
    if status in PREDICTED_STATUSES and preflight is not None:
        return row.predicted_against != preflight.stamp or row.predicted is not None
    return False


def _contents(
    connection: Connection,
    folder: str,
    ids: Sequence[str],
    statuses: Collection[Status] | None,
) -> dict[str, str]:
    if not ids:
        return {}
    if len(ids) >= _SCAN_FROM:
        wanted = set(ids)
        query = (
            sa.select(entries.c.entry_id, revisions.c.content)
            .select_from(with_content)
            .where(entries.c.client == folder)
        )
        if statuses:
            query = query.where(entries.c.status.in_([status.value for status in statuses]))
        return {
            row.entry_id: row.content for row in connection.execute(query) if row.entry_id in wanted
        }
    found: dict[str, str] = {}
    for start in range(0, len(ids), _LOOKUP):
        rows = connection.execute(
            sa.select(entries.c.entry_id, revisions.c.content)
            .select_from(with_content)
            .where(entries.c.client == folder, entries.c.entry_id.in_(ids[start : start + _LOOKUP]))
        )
        found.update({row.entry_id: row.content for row in rows})
    return found


def _entry_row(
    row: sa.Row[Any], preflight: Preflight | None, contents: Mapping[str, str]
) -> EntryRow:
    status = Status(row.status)
    content = contents.get(row.entry_id)
    entry = entry_of(content) if content is not None else None
    index = preflight.index if preflight is not None else None
    code = message = None
    findings: tuple[Mapping[str, Any], ...] = ()
    remedy = predicted = None
    if status in PREDICTED_STATUSES and preflight is not None:
        if row.predicted_against == preflight.stamp:
            predicted = json.loads(row.predicted) if row.predicted else None
        elif entry is not None:
            stale = preflight.verdict(entry)  # made against another setup: made again
            predicted = json.loads(stale) if stale else None
    if status is Status.SYNC_FAILED:
        code, message = row.code, row.message
        findings = tuple(json.loads(row.findings)) if row.findings else ()
        remedy = remedy_for(code, message, findings, index, entry)
    elif predicted is not None:
        remedy = remedy_for(
            predicted["code"], predicted["message"], predicted["findings"], index, entry
        )
    synchronized = status is Status.SYNCHRONIZED
    return EntryRow(
        id=row.entry_id,
        revision=row.revision,
        status=status,
        code=code,
        message=message,
        findings=findings,
        remedy=remedy,
        predicted=predicted,
        entry_number=row.entry_number if synchronized else None,
        fiscal_year=row.fiscal_year if synchronized else None,
    )


# -- status changes -------------------------------------------------------------------------


def _named_states(
    connection: Connection, folder: str, ids: Iterable[str]
) -> dict[str, tuple[Status, int]]:
    """Status and revision of each named entry, in the order named; UnknownEntry if one is not."""
    require_client(connection, folder)
    unique = list(dict.fromkeys(ids))
    found = current_states(connection, folder, unique)
    for entry_id in unique:
        if entry_id not in found:
            raise UnknownEntry(folder, entry_id)
    return {entry_id: found[entry_id] for entry_id in unique}


def verify(connection: Connection, folder: str, ids: Iterable[str], at: datetime) -> list[Change]:
    """Mark the named entries verified: to_verify ones, or failed ones fixed in the ledger."""
    states = _named_states(connection, folder, ids)
    return apply_action(
        connection,
        folder,
        states,
        Action.VERIFY,
        actor=ACCOUNTANT,
        at=at,
        message="marked verified",
    )


def verify_all(connection: Connection, folder: str, at: datetime) -> list[Change]:
    """Mark verified every to_verify and sync_failed entry of the client."""
    require_client(connection, folder)
    return move_all(
        connection, folder, Action.VERIFY, actor=ACCOUNTANT, at=at, message="marked verified"
    )


def verify_failed_with_code(
    connection: Connection, folder: str, code: str, at: datetime
) -> list[Change]:
    """Mark verified every sync_failed entry rejected with `code` (after a fix in the ledger);
    a code that is neither a known one nor carried by a failed entry of the client (a
    foreign ledger's own code) is refused: a typo would otherwise mark nothing."""
    require_client(connection, folder)
    changes = move_all(
        connection,
        folder,
        Action.VERIFY,
        actor=ACCOUNTANT,
        at=at,
        message=f"marked verified after a fix in the ledger ({code})",
        source=Status.SYNC_FAILED,
        code=code,
    )
    if not changes and code not in FAILURE_CODES:
        raise UnknownRejectionCode(folder, code, FAILURE_CODES)
    return changes


def exclude(connection: Connection, folder: str, ids: Iterable[str], at: datetime) -> list[Change]:
    states = _named_states(connection, folder, ids)
    return apply_action(
        connection, folder, states, Action.EXCLUDE, actor=ACCOUNTANT, at=at, message="excluded"
    )


def restore(connection: Connection, folder: str, ids: Iterable[str], at: datetime) -> list[Change]:
    states = _named_states(connection, folder, ids)
    return apply_action(
        connection, folder, states, Action.RESTORE, actor=ACCOUNTANT, at=at, message="restored"
    )


# -- edit -----------------------------------------------------------------------------------


def patched_entry(document: object, entry_id: str, *, source: str = "patch") -> Entry:
    """The entry a patched document describes, validated like an imported one; its id kept."""
    if not isinstance(document, dict):
        raise MalformedDocument(
            [Problem("", "the patched entry is not an object: a patch must be a JSON/YAML object")],
            source=source,
        )
    try:
        entry = parse_entry(document)
    except MalformedDocument as malformed:
        raise MalformedDocument(malformed.problems, source=source) from None
    if entry.id != entry_id:
        raise MalformedDocument(
            [
                Problem(
                    "id", f"an entry's id cannot change: {entry_id!r} cannot become {entry.id!r}"
                )
            ],
            source=source,
        )
    return entry


def edit(
    connection: Connection,
    folder: str,
    entry_id: str,
    patch: object,
    at: datetime,
    *,
    source: str = "patch",
) -> EditOutcome:
    """Apply an RFC 7386 merge patch: a new revision, back to to_verify (same content: nothing)."""
    require_client(connection, folder)
    row = connection.execute(
        sa.select(entries.c.status, entries.c.revision, revisions.c.content, entries.c.fingerprint)
        .select_from(with_content)
        .where(entries.c.client == folder, entries.c.entry_id == entry_id)
        .with_for_update(of=entries)  # as in transitions.current_states
    ).first()
    if row is None:
        raise UnknownEntry(folder, entry_id)
    status = Status(row.status)
    next_status(entry_id, status, Action.EDIT, folder=folder)  # refused before the patch is read
    before = json.loads(row.content)
    entry = patched_entry(merge_patch(before, patch), entry_id, source=source)
    entry_print = fingerprint(entry)
    if entry_print == row.fingerprint:
        return EditOutcome(entry_id, row.revision, status, changed=False)
    revision = row.revision + 1
    revise(
        connection,
        folder,
        [
            NewRevision(
                entry_id,
                status,
                revision,
                content_of(entry),
                entry_print,
                prediction_values(preflight_of(connection, folder), entry),
            )
        ],
        history=History(connection, folder, ACCOUNTANT, at),
        note="edited",
    )
    return EditOutcome(
        entry_id,
        revision,
        Status.TO_VERIFY,
        changed=True,
        shortened=tuple(shortened_lists(before, patch)),
    )


# -- history --------------------------------------------------------------------------------


def entry_history(connection: Connection, folder: str, entry_id: str) -> list[HistoryLine]:
    """Every status change of the entry across its revisions, with its import and edits."""
    _named_states(connection, folder, [entry_id])
    column = connection.scalar(
        sa.select(entries.c.history).where(
            entries.c.client == folder, entries.c.entry_id == entry_id
        )
    )
    items = history_of(column or "")
    events = {
        row.id: row
        for row in connection.execute(
            sa.select(history_events).where(
                history_events.c.id.in_(sorted({event for event, _, _ in items}))
            )
        )
    }
    lines = []
    for event, revision, own in items:
        row = events[event]
        lines.append(
            HistoryLine(
                at=row.at,
                actor=row.actor,
                from_status=Status(row.from_status) if row.from_status else None,
                to_status=Status(row.to_status),
                message=row.message if own is None else own,
                revision=revision,
            )
        )
    return lines
