"""`entries import`: a batch lands in To Verify; ids already there follow §4.2, each reported.

The batch is read as a stream and written in chunks, every chunk in the one transaction
of the import: a problem found late in a large document still leaves nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.bulk import BulkInsert, ensure_statistics, select_where_in
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.fingerprint import fingerprint_and_content
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.plurals import counted
from ledgerbridge.workspace.mirror import Preflight, prediction_values
from ledgerbridge.workspace.tables import entries, revisions
from ledgerbridge.workspace.transitions import (
    STATUS_OF,
    History,
    NewRevision,
    revise,
)

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
LEFT_AS_IS = "left_as_is"
OUTCOMES = (NEW, UPDATED, UNCHANGED, LEFT_AS_IS)
# Statuses whose entry takes a new revision when imported again with other content.
REVISABLE = frozenset({Status.TO_VERIFY, Status.VERIFIED, Status.SYNC_FAILED})
ACTOR = "import"
_CHUNK = 1000
NEW_ENTRY_COLUMNS = (
    "client",
    "entry_id",
    "revision",
    "status",
    "fingerprint",
    "imported_at",
    "updated_at",
    "predicted",
    "predicted_against",
)
REVISION_COLUMNS = ("client", "entry_id", "revision", "content", "created_at")
_LOOKUP = 500  # ids per IN (...) lookup: well under every database's parameter limit


class ImportOutcome(msgspec.Struct, frozen=True, gc=False):
    """What the import did with one entry of the batch (a struct: one per entry)."""

    id: str
    outcome: str  # new | updated | unchanged | left_as_is
    status: Status  # the entry's status after the import
    revision: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "status": self.status.value,
            "revision": self.revision,
        }

    def as_json(self) -> str:
        """`as_dict()` as JSON, written directly: an import reports every one of its entries."""
        return (
            f'{{"id": {json.dumps(self.id, ensure_ascii=False)}, "outcome": "{self.outcome}",'
            f' "status": "{self.status.value}", "revision": {self.revision}}}'
        )

    def describe(self) -> str:
        status = self.status.shown_as
        if self.outcome == NEW:
            return f"new        {self.id}  revision 1, {status}"
        if self.outcome == UPDATED:
            return f"updated    {self.id}  revision {self.revision}, back to {status}"
        if self.outcome == UNCHANGED:
            return f"unchanged  {self.id}  revision {self.revision}, {status}"
        return f"left as is {self.id}  revision {self.revision}, {status}: not changed by an import"


@dataclass(frozen=True, slots=True)
class ImportReport:
    folder: str
    results: tuple[ImportOutcome, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    def summary(self) -> str:
        counts = {outcome: self.count(outcome) for outcome in OUTCOMES}
        return (
            f"Client {self.folder}: {counted(len(self.results), 'entry', 'entries')} imported:"
            f" {counts[NEW]} new, {counts[UPDATED]} updated (a new revision, back to To verify),"
            f" {counts[UNCHANGED]} unchanged, {counts[LEFT_AS_IS]} left as is"
            " (synchronizing, synchronized or excluded)."
        )


@dataclass(frozen=True, slots=True)
class _Known:
    status: Status
    revision: int
    fingerprint: str


def import_entries(
    connection: Connection,
    folder: str,
    batch: Iterable[Entry],
    *,
    at: datetime,
    preflight: Preflight | None,
    before_commit: Callable[[], None],
) -> ImportReport:
    """Import a batch into the client's To Verify, in the caller's transaction.

    `before_commit` runs once the batch is read (it raises MalformedDocument when the
    document was malformed, and the caller's transaction then stores nothing). An id that
    comes twice is taken once, then refused by `before_commit` or here.
    """
    results: list[ImportOutcome] = []
    seen: set[str] = set()
    repeated: list[Problem] = []
    chunk: list[Entry] = []
    history = History(connection, folder, ACTOR, at)  # one import event for every new entry
    # A large import allocates millions of short-lived objects that reference counting
    # frees; collections would walk every object of the process again (see collector).
    with collector.paused():
        for entry in batch:
            if entry.id in seen:
                repeated.append(Problem("entries", f"duplicate id {entry.id!r}"))
                continue
            seen.add(entry.id)
            chunk.append(entry)
            if len(chunk) >= _CHUNK:
                results += _import_chunk(connection, folder, chunk, at, preflight, history)
                chunk = []
                if len(results) == _CHUNK:  # the first chunk is in: the next ones look up
                    ensure_statistics(connection, entries)  # their ids among many rows
        results += _import_chunk(connection, folder, chunk, at, preflight, history)
    before_commit()
    if repeated:
        raise MalformedDocument(repeated)
    return ImportReport(folder, tuple(results))


_KNOWN_COLUMNS = ("entry_id", "status", "revision", "fingerprint")


def _known_entries(connection: Connection, folder: str, ids: Sequence[str]) -> dict[str, _Known]:
    """The client's entries among `ids`, locked as in transitions.current_states."""
    rows = select_where_in(
        connection,
        entries,
        _KNOWN_COLUMNS,
        {"client": folder},
        "entry_id",
        ids,
        chunk=_LOOKUP,
        lock=True,
    )
    return {
        entry_id: _Known(STATUS_OF[status], revision, entry_print)
        for entry_id, status, revision, entry_print in rows
    }


def _store_new_entries(
    connection: Connection,
    folder: str,
    new_rows: Sequence[tuple[Any, ...]],
    contents: Sequence[str],
    at: datetime,
    history: History,
) -> None:
    """The new entries (rows of NEW_ENTRY_COLUMNS, times as given), their first revision
    (`contents`, in the same order) and their import in the history."""
    if not new_rows:
        return
    # Every new entry starts its history with the same item: the import's event, revision 1.
    item = history.shared_item(None, Status.TO_VERIFY, 1, "imported")
    insert_entries = BulkInsert(connection, entries, (*NEW_ENTRY_COLUMNS, "history"))
    insert_entries.insert(insert_entries.converted([(*row, item) for row in new_rows]))
    insert_revisions = BulkInsert(connection, revisions, REVISION_COLUMNS)
    created_at = insert_revisions.converter("created_at")(at)
    insert_revisions.insert(
        [
            (folder, row[1], 1, content, created_at)
            for row, content in zip(new_rows, contents, strict=True)
        ]
    )


def _import_chunk(
    connection: Connection,
    folder: str,
    chunk: Sequence[Entry],
    at: datetime,
    preflight: Preflight | None,
    history: History,
) -> list[ImportOutcome]:
    if not chunk:
        return []
    known = _known_entries(connection, folder, [entry.id for entry in chunk])
    outcomes: list[ImportOutcome] = []
    new_rows: list[tuple[Any, ...]] = []
    new_contents: list[str] = []
    new_revisions: list[NewRevision] = []
    to_verify = Status.TO_VERIFY.value
    for entry in chunk:
        entry_print, content = fingerprint_and_content(entry)
        current = known.get(entry.id)
        if current is None:
            predicted = prediction_values(preflight, entry)
            new_rows.append(
                (
                    folder,
                    entry.id,
                    1,
                    to_verify,
                    entry_print,
                    at,
                    at,
                    predicted["predicted"],
                    predicted["predicted_against"],
                )
            )
            new_contents.append(content)
            outcomes.append(ImportOutcome(entry.id, NEW, Status.TO_VERIFY, 1))
        elif current.fingerprint == entry_print:
            outcomes.append(ImportOutcome(entry.id, UNCHANGED, current.status, current.revision))
        elif current.status in REVISABLE:
            revision = current.revision + 1
            new_revisions.append(
                NewRevision(
                    entry.id,
                    current.status,
                    revision,
                    content,
                    entry_print,
                    prediction_values(preflight, entry),
                )
            )
            outcomes.append(ImportOutcome(entry.id, UPDATED, Status.TO_VERIFY, revision))
        else:
            outcomes.append(ImportOutcome(entry.id, LEFT_AS_IS, current.status, current.revision))
    _store_new_entries(connection, folder, new_rows, new_contents, at, history)
    revise(
        connection,
        folder,
        new_revisions,
        history=history,
        note="imported again with other content",
    )
    return outcomes
