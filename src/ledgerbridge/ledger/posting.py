"""Posting a batch: check each entry, number and store the accepted ones, exactly once per key.

The whole batch is one transaction with the folder locked. Entries are read in chunks so
a stream of any length never sits in memory; per chunk, one query finds the keys already
posted and one bulk insert per table stores the new entries, lines and allocations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql

from ledgerbridge.bulk import BulkInsert
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult, Finding
from ledgerbridge.domain.fingerprint import fingerprint
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.ledger.folders import find_folder
from ledgerbridge.ledger.tables import (
    entry_counters,
    posted_allocations,
    posted_entries,
    posted_lines,
)

EntryKey = Callable[[Entry], str]


@dataclass(frozen=True, slots=True)
class PostingSummary:
    """What a batch did: entries newly posted, answered again (replays), rejected."""

    folder: str
    accepted: int = 0
    replayed: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        return self.accepted + self.replayed + self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "accepted": self.accepted,
            "replayed": self.replayed,
            "rejected": self.rejected,
        }


class PostedKey(NamedTuple):
    fingerprint: str
    fiscal_year: str
    number: int


def idempotency_conflict(entry: Entry, key: str, posted: PostedKey) -> CheckResult:
    finding = Finding(
        "idempotency_conflict",
        None,
        f"key {key!r} was already posted as entry {posted.number} of fiscal year"
        f" {posted.fiscal_year} with other content; posted entries are never changed",
        (("number", str(posted.number)),),
    )
    return CheckResult(id=entry.id, findings=(finding,))


def post_batch(
    connection: Connection,
    folder: str,
    entries: Iterable[Entry],
    *,
    key: EntryKey,
    on_result: Callable[[CheckResult], None],
    chunk_size: int,
    posted_at: datetime,
) -> PostingSummary:
    """Check and post `entries` in the connection's transaction; the caller commits."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    target = find_folder(connection, folder, lock=True)
    batch = _Batch(connection, target.id, FolderIndex.of(target.setup), posted_at)
    for chunk in _chunks(entries, chunk_size):
        for result in batch.post_chunk(chunk, key):
            on_result(result)
    batch.save_counters()
    return PostingSummary(
        folder=folder, accepted=batch.accepted, replayed=batch.replayed, rejected=batch.rejected
    )


def _chunks(entries: Iterable[Entry], size: int) -> Iterator[list[Entry]]:
    iterator = iter(entries)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _known_keys_query(connection: Connection) -> sa.Select[Any]:
    """The entries of a folder already posted under any of the `keys`, in one query."""
    columns = (
        posted_entries.c.key,
        posted_entries.c.fingerprint,
        posted_entries.c.fiscal_year,
        posted_entries.c.number,
    )
    of_folder = posted_entries.c.folder_id == sa.bindparam("folder_id")
    if connection.dialect.name != "postgresql":
        return sa.select(*columns).where(
            of_folder, posted_entries.c.key.in_(sa.bindparam("keys", expanding=True))
        )
    # PostgreSQL: a join on the unnested keys is looked up in the key's index whatever the
    # statistics say. With `IN (...)`, an analyze that ran while a large batch was still
    # uncommitted made the table look empty, and each chunk scanned every posted entry
    # once per key.
    wanted = (
        sa.func.unnest(sa.bindparam("keys", type_=postgresql.ARRAY(sa.String)))
        .table_valued("key")
        .render_derived(name="wanted")
    )
    return sa.select(*columns).select_from(
        wanted.join(posted_entries, sa.and_(of_folder, posted_entries.c.key == wanted.c.key))
    )


ENTRY_COLUMNS = (
    "id",
    "folder_id",
    "fiscal_year",
    "number",
    "key",
    "fingerprint",
    "entry_id",
    "journal",
    "date",
    "reference",
    "label",
    "posted_at",
)
LINE_COLUMNS = ("entry", "line", "account", "auxiliary", "label", "debit", "credit")
ALLOCATION_COLUMNS = ("entry", "line", "position", "axis", "section", "amount")


class EntryIds:
    """Ids for new posted entries, known before they are inserted so their lines can follow."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.last_id: int | None = None

    def reserve(self, count: int) -> list[int]:
        if self.postgresql:
            return list(
                self.connection.scalars(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence('ledger_entries', 'id'))"
                        " FROM generate_series(1, :count)"
                    ),
                    {"count": count},
                )
            )
        # SQLite: the batch holds the database's write lock from its start, so nobody
        # else inserts between reading the largest id and using the ones after it.
        if self.last_id is None:
            self.last_id = self.connection.scalar(
                sa.select(sa.func.coalesce(sa.func.max(posted_entries.c.id), 0))
            )
            assert self.last_id is not None
        first = self.last_id + 1
        self.last_id += count
        return list(range(first, first + count))


class _Batch:
    """The state of one batch: the folder's index, its numbering, and the counts so far."""

    def __init__(
        self, connection: Connection, folder_id: int, index: FolderIndex, posted_at: datetime
    ) -> None:
        self.connection = connection
        self.folder_id = folder_id
        self.index = index
        self.insert_entries = BulkInsert(connection, posted_entries, ENTRY_COLUMNS)
        self.insert_lines = BulkInsert(connection, posted_lines, LINE_COLUMNS)
        self.insert_allocations = BulkInsert(connection, posted_allocations, ALLOCATION_COLUMNS)
        self.entry_ids = EntryIds(connection)
        self.known_keys = _known_keys_query(connection)
        self.date_value = self.insert_entries.converter("date")
        self.posted_at = self.insert_entries.converter("posted_at")(posted_at)
        self.last_numbers: dict[str, int] = {
            row.fiscal_year: row.last_number
            for row in connection.execute(
                sa.select(entry_counters.c.fiscal_year, entry_counters.c.last_number).where(
                    entry_counters.c.folder_id == folder_id
                )
            )
        }
        self.counters_found = frozenset(self.last_numbers)
        self.numbered: set[str] = set()  # fiscal years whose counter this batch moves
        # Per day: its fiscal year and the value the driver stores; a batch has few days.
        self.days: dict[date, tuple[str, Any]] = {}
        self.accepted = self.replayed = self.rejected = 0

    def post_chunk(self, chunk: list[Entry], key: EntryKey) -> list[CheckResult]:
        """Results in the chunk's order, once its new entries are stored."""
        keys = [key(entry) for entry in chunk]
        known: dict[str, PostedKey] = {
            row.key: PostedKey(row.fingerprint, row.fiscal_year, row.number)
            for row in self.connection.execute(
                self.known_keys, {"folder_id": self.folder_id, "keys": list(set(keys))}
            )
        }
        results: list[CheckResult] = []
        new_entries: list[tuple[Entry, tuple[Any, ...]]] = []
        for entry, entry_key in zip(chunk, keys, strict=True):
            posted = known.get(entry_key)
            if posted is not None:
                # Posted already (by an earlier batch or earlier in this one): whatever the
                # setup says now, the answer is the first one, or a conflict.
                if fingerprint(entry) == posted.fingerprint:
                    results.append(
                        CheckResult(
                            id=entry.id,
                            entry_number=posted.number,
                            fiscal_year=posted.fiscal_year,
                            replay=True,
                        )
                    )
                    self.replayed += 1
                else:
                    results.append(idempotency_conflict(entry, entry_key, posted))
                    self.rejected += 1
                continue
            result = check_entry(entry, self.index)
            if not result.accepted:
                results.append(result)
                self.rejected += 1
                continue
            fiscal_year, day = self._day(entry)
            number = self.last_numbers.get(fiscal_year, 0) + 1
            self.last_numbers[fiscal_year] = number
            entry_fingerprint = fingerprint(entry)
            known[entry_key] = PostedKey(entry_fingerprint, fiscal_year, number)
            row = (
                self.folder_id,
                fiscal_year,
                number,
                entry_key,
                entry_fingerprint,
                entry.id,
                entry.journal,
                day,
                entry.reference or None,
                entry.label or None,
                self.posted_at,
            )
            new_entries.append((entry, row))
            results.append(CheckResult(id=entry.id, entry_number=number, fiscal_year=fiscal_year))
            self.accepted += 1
        if new_entries:
            self._store(new_entries)
        return results

    def _day(self, entry: Entry) -> tuple[str, Any]:
        day = entry.date
        assert day is not None  # an accepted entry has a date
        known = self.days.get(day)
        if known is None:
            year = self.index.fiscal_year_of(day)
            assert year is not None  # an accepted entry's date is in an open fiscal year
            self.numbered.add(year.code)
            known = self.days[day] = (year.code, self.date_value(day))
        return known

    def _store(self, new_entries: list[tuple[Entry, tuple[Any, ...]]]) -> None:
        ids = self.entry_ids.reserve(len(new_entries))
        self.insert_entries.insert(
            [(entry_pk, *row) for entry_pk, (_, row) in zip(ids, new_entries, strict=True)]
        )
        lines: list[tuple[Any, ...]] = []
        allocations: list[tuple[Any, ...]] = []
        for entry_pk, (entry, _) in zip(ids, new_entries, strict=True):
            for number, line in enumerate(entry.lines or (), 1):
                debit, credit = line.debit, line.credit
                lines.append(
                    (
                        entry_pk,
                        number,
                        line.account,
                        line.auxiliary or None,
                        line.label or None,
                        int(debit * 100) if debit else 0,
                        int(credit * 100) if credit else 0,
                    )
                )
                if line.analytics:
                    for position, allocation in enumerate(line.analytics, 1):
                        amount = allocation.amount
                        allocations.append(
                            (
                                entry_pk,
                                number,
                                position,
                                allocation.axis,
                                allocation.section,
                                int(amount * 100) if amount else 0,
                            )
                        )
        self.insert_lines.insert(lines)
        self.insert_allocations.insert(allocations)

    def save_counters(self) -> None:
        updates = [
            {"b_fiscal_year": year, "b_last_number": self.last_numbers[year]}
            for year in sorted(self.numbered & self.counters_found)
        ]
        inserts = [
            {
                "folder_id": self.folder_id,
                "fiscal_year": year,
                "last_number": self.last_numbers[year],
            }
            for year in sorted(self.numbered - self.counters_found)
        ]
        if updates:
            self.connection.execute(
                entry_counters.update()
                .where(
                    entry_counters.c.folder_id == self.folder_id,
                    entry_counters.c.fiscal_year == sa.bindparam("b_fiscal_year"),
                )
                .values(last_number=sa.bindparam("b_last_number")),
                updates,
            )
        if inserts:
            self.connection.execute(entry_counters.insert(), inserts)
