"""Posting a batch: check each entry, number and store the accepted ones, exactly once per key.

The whole batch is one transaction with the folder locked. Entries are read in chunks so
a stream of any length never sits in memory. Each chunk goes through two steps:
- `Preparing`, which needs no database: each entry's key, fingerprint and check, and for
  an accepted one its row but the number (its lines as JSON). Other processes may do it,
  several chunks at once (ledger/forked_posting).
- `Numbering`, in the batch's transaction, in input order: keys already posted looked up
  (a replay, or a conflict), the accepted entries numbered; then stored, one bulk insert.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.bulk import BulkInsert, chunked
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult, Finding
from ledgerbridge.domain.fingerprint import fingerprint, fingerprint_and_lines
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.ledger.folders import find_folder
from ledgerbridge.ledger.tables import (
    entry_counters,
    posted_entries,
)

EntryKey = Callable[[Entry], str]
Row = tuple[Any, ...]


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


# An entry posted (known by its id): its fingerprint, fiscal year, number and the key it came
# with.
PostedKey = tuple[str, str, int, str]


def idempotency_conflict(entry_id: str, key: str, posted: PostedKey) -> CheckResult:
    """The refusal of an entry whose id the folder holds posted with other content."""
    _, fiscal_year, number, posted_key = posted
    what = f"key {key!r}" if posted_key == key else f"entry {entry_id!r}"
    under = "" if posted_key == key else f", under key {posted_key!r},"
    finding = Finding(
        "idempotency_conflict",
        None,
        f"{what} was already posted as entry {number} of fiscal year {fiscal_year}{under}"
        " with other content; posted entries are never changed",
        (("number", str(number)), ("fiscal_year", fiscal_year)),
    )
    return CheckResult(id=entry_id, findings=(finding,))


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
    numbering = Numbering.start(connection, folder, posted_at)
    preparing = Preparing(numbering.index, key)
    store = Store(connection)
    with collector.paused():
        for chunk in chunks(entries, chunk_size):
            prepared = numbering.number(preparing.chunk(chunk))
            store.insert(prepared)
            for result in prepared.results():
                on_result(result)
    store.save_counters(numbering.counters)
    return numbering.summary(folder)


def chunks(entries: Iterable[Entry], size: int) -> Iterator[list[Entry]]:
    if size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {size}")
    return chunked(entries, size)


@functools.cache  # built once per database kind, not at each batch
def _known_query(dialect: str) -> sa.Select[Any]:
    """The entries of a folder already posted with any of the `ids`, in one query."""
    columns = (
        posted_entries.c.key,
        posted_entries.c.fingerprint,
        posted_entries.c.fiscal_year,
        posted_entries.c.number,
        posted_entries.c.entry_id,
    )
    of_folder = posted_entries.c.folder_id == sa.bindparam("folder_id")
    if dialect != "postgresql":
        return sa.select(*columns).where(
            of_folder, posted_entries.c.entry_id.in_(sa.bindparam("ids", expanding=True))
        )
    from sqlalchemy.dialects import postgresql  # loaded only where it is used

    # PostgreSQL: a join on the unnested ids is looked up in the id's index whatever the
    # statistics say. With `IN (...)`, an analyze that ran while a large batch was still
    # uncommitted made the table look empty, and each chunk scanned every posted entry
    # once per id.
    wanted = (
        sa.func.unnest(sa.bindparam("ids", type_=postgresql.ARRAY(sa.String)))
        .table_valued("id")
        .render_derived(name="wanted")
    )
    return sa.select(*columns).select_from(
        wanted.join(posted_entries, sa.and_(of_folder, posted_entries.c.entry_id == wanted.c.id))
    )


# The entry's id, which nothing refers to, is the database's to give.
ENTRY_COLUMNS = (
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
    "lines",
)


_COUNTERS = sa.select(entry_counters.c.fiscal_year, entry_counters.c.last_number).where(
    entry_counters.c.folder_id == sa.bindparam("folder_id")
)


@dataclass(slots=True)
class Counters:
    """The folder's last entry number per fiscal year: as found, and as the batch moves them."""

    folder_id: int
    last_numbers: dict[str, int]
    found: dict[str, int]  # as found: the folder's fiscal years numbered in already

    @property
    def moved(self) -> set[str]:
        """The fiscal years this batch numbers in."""
        found = self.found
        return {year for year, last in self.last_numbers.items() if found.get(year) != last}

    @classmethod
    def read(cls, connection: Connection, folder_id: int) -> Counters:
        last_numbers = {
            row.fiscal_year: row.last_number
            for row in connection.execute(_COUNTERS, {"folder_id": folder_id})
        }
        return cls(folder_id, dict(last_numbers), last_numbers)


@dataclass(frozen=True, slots=True)
class Start:
    """What the batch's writing transaction found when it locked the folder, before any
    entry: the setup the entries are checked against, and where the numbering stands."""

    folder_id: int
    index: FolderIndex
    counters: Counters
    posted_at: datetime

    @classmethod
    def locked(cls, connection: Connection, folder: str, posted_at: datetime) -> Start:
        target = find_folder(connection, folder, lock=True)
        return cls(
            target.id,
            FolderIndex.of(target.setup),
            Counters.read(connection, target.id),
            posted_at,
        )


# An entry posted or replayed, as it travels: its id, number, fiscal year and whether a replay.
Numbered = tuple[str, int, str, bool]


class Candidate(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """An entry prepared as far as it goes without the database: its key, its content's
    fingerprint and, when the check accepts it, its row but the number. A rejected entry's
    result comes beside it, in `Candidates.rejected`."""

    id: str
    key: str
    fingerprint: str
    fiscal_year: str | None = None  # None: the check rejected the entry
    date: date | None = None
    journal: str | None = None
    reference: str | None = None
    label: str | None = None
    lines: str = ""  # domain.entries.lines_json


class Candidates(NamedTuple):
    """A chunk prepared: one candidate per entry, in input order, and the check's result of
    each rejected one, in the same order."""

    items: list[Candidate]
    rejected: list[CheckResult]


class Preparing:
    """Prepares the chunks of a batch: pure work, which any process holding the folder's
    setup can do (`Candidates`)."""

    def __init__(self, index: FolderIndex, key: EntryKey) -> None:
        self.index = index
        self.key = key
        self.years: dict[date, str] = {}  # a batch has few days

    def chunk(self, chunk: list[Entry]) -> Candidates:
        items: list[Candidate] = []
        rejected: list[CheckResult] = []
        index, key, years = self.index, self.key, self.years
        for entry in chunk:
            # Checked even if its key turns out posted already (a replay, answered without
            # it): only the batch's transaction can tell, and replays are the rare case.
            result = check_entry(entry, index)
            if result.findings:
                items.append(Candidate(entry.id, key(entry), fingerprint(entry)))
                rejected.append(result)
                continue
            day = entry.date
            assert day is not None  # an accepted entry has a date
            year = years.get(day)
            if year is None:
                found = index.fiscal_year_of(day)
                assert found is not None  # an accepted entry's date is in an open fiscal year
                year = years[day] = found.code
            digest, lines = fingerprint_and_lines(entry)
            items.append(
                Candidate(
                    entry.id,
                    key(entry),
                    digest,
                    year,
                    day,
                    entry.journal,
                    entry.reference,
                    entry.label,
                    lines,
                )
            )
        return Candidates(items, rejected)


class Prepared(NamedTuple):
    """A chunk ready to store: its results, and the rows of its new entries.

    `numbered` holds one item per entry, in input order: the posted or replayed ones as
    `Numbered`, a None for each rejected one, whose result is the next of `rejected`.
    """

    numbered: list[Numbered | None]
    rejected: list[CheckResult]
    entries: list[Row]

    def results(self) -> list[CheckResult]:
        """Each entry's result, in input order."""
        others = iter(self.rejected)
        return [
            next(others)
            if item is None
            else CheckResult(id=item[0], entry_number=item[1], fiscal_year=item[2], replay=item[3])
            for item in self.numbered
        ]


class Numbering:
    """Numbers the prepared chunks of one batch, in input order, in the batch's transaction:
    keys already posted looked up (the batch's own included), the accepted entries numbered
    and made rows."""

    def __init__(self, connection: Connection, start: Start) -> None:
        self.connection = connection
        self.folder_id = start.folder_id
        self.index = start.index
        self.counters = start.counters
        self.known = _known_query(connection.dialect.name)
        entry_values = BulkInsert(connection, posted_entries, ENTRY_COLUMNS)
        self.date_value = entry_values.converter("date")
        self.posted_at = entry_values.converter("posted_at")(start.posted_at)
        # A folder with nothing posted when the batch locked it: the only ids to look up
        # are those the batch posted itself, tracked here.
        self.fresh = not start.counters.found
        self.own: set[str] = set()
        self.days: dict[date, Any] = {}  # each day's value for the driver
        self.accepted = self.replayed = self.rejected = 0

    @classmethod
    def start(cls, connection: Connection, folder: str, posted_at: datetime) -> Numbering:
        """The folder locked in the connection's transaction, which also stores the batch."""
        return cls(connection, Start.locked(connection, folder, posted_at))

    def summary(self, folder: str) -> PostingSummary:
        return PostingSummary(
            folder=folder, accepted=self.accepted, replayed=self.replayed, rejected=self.rejected
        )

    def _known(self, items: list[Candidate]) -> dict[str, PostedKey]:
        """The entries already posted with the items' ids, by id."""
        ids = {item.id for item in items}
        if self.fresh:
            ids &= self.own
        known: dict[str, PostedKey] = {}
        if ids:
            for row in self.connection.execute(
                self.known, {"folder_id": self.folder_id, "ids": sorted(ids)}
            ):
                known[row.entry_id] = (row.fingerprint, row.fiscal_year, row.number, row.key)
        return known

    def number(self, candidates: Candidates) -> Prepared:
        """Each entry's result, in the chunk's order, and the rows of those newly posted."""
        items, checked = candidates
        known = self._known(items)
        others = iter(checked)
        numbered: list[Numbered | None] = []
        rejected: list[CheckResult] = []
        rows: list[Row] = []
        own, fresh, days = self.own, self.fresh, self.days
        last_numbers = self.counters.last_numbers
        folder_id, posted_at, date_value = self.folder_id, self.posted_at, self.date_value
        for item in items:
            year = item.fiscal_year
            result = next(others) if year is None else None
            entry_key = item.key
            # An id is posted once in a folder, whatever its key: by `ledger post` (the id)
            # or from the workspace (client, id and revision), an entry is one entry.
            already = known.get(item.id)
            if already is not None:
                # Posted already (by an earlier batch or earlier in this one): whatever the
                # setup says now, the answer is the first one, or a conflict.
                if item.fingerprint == already[0]:
                    numbered.append((item.id, already[2], already[1], True))
                    self.replayed += 1
                else:
                    numbered.append(None)
                    rejected.append(idempotency_conflict(item.id, entry_key, already))
                continue
            if result is not None:
                numbered.append(None)
                rejected.append(result)
                continue
            assert year is not None and item.date is not None  # an accepted entry's
            number = last_numbers[year] = last_numbers.get(year, 0) + 1
            known[item.id] = (item.fingerprint, year, number, entry_key)
            if fresh:
                own.add(item.id)
            day = item.date
            value = days.get(day)
            if value is None:
                value = days[day] = date_value(day)
            rows.append(
                (
                    folder_id,
                    year,
                    number,
                    entry_key,
                    item.fingerprint,
                    item.id,
                    item.journal,
                    value,
                    item.reference,
                    item.label,
                    posted_at,
                    item.lines,
                )
            )
            numbered.append((item.id, number, year, False))
        self.accepted += len(rows)
        self.rejected += len(rejected)
        return Prepared(numbered, rejected, rows)


class Store:
    """Stores prepared chunks, and the counters at the end, in the batch's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.insert_entries = BulkInsert(connection, posted_entries, ENTRY_COLUMNS)

    def insert(self, prepared: Prepared) -> None:
        self.insert_entries.insert(prepared.entries)

    def save_counters(self, counters: Counters) -> None:
        last_numbers, moved, found = counters.last_numbers, counters.moved, counters.found.keys()
        updates = [
            {
                "b_folder_id": counters.folder_id,
                "b_fiscal_year": year,
                "b_last_number": last_numbers[year],
            }
            for year in sorted(moved & found)
        ]
        inserts = [
            {
                "folder_id": counters.folder_id,
                "fiscal_year": year,
                "last_number": last_numbers[year],
            }
            for year in sorted(moved - found)
        ]
        if updates:
            self.connection.execute(_MOVE_COUNTER, updates)
        if inserts:
            self.connection.execute(_NEW_COUNTER, inserts)


# Built once: a statement made anew costs more than running it (a tenth of a millisecond),
# at every batch.
_MOVE_COUNTER = (
    entry_counters.update()
    .where(
        entry_counters.c.folder_id == sa.bindparam("b_folder_id"),
        entry_counters.c.fiscal_year == sa.bindparam("b_fiscal_year"),
    )
    .values(last_number=sa.bindparam("b_last_number"))
)
_NEW_COUNTER = entry_counters.insert()
