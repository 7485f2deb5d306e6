"""Posting a batch: check each entry, number and store the accepted ones, exactly once per key.

The whole batch is one transaction with the folder locked. Entries are read in chunks so
a stream of any length never sits in memory. Each chunk is first prepared (`Numbering`):
keys already posted looked up, entries checked, numbered and turned into the rows to
insert, with every result; then stored, one bulk insert per table. Preparing only reads
the database, so it may run in another process than the one storing (ledger/forked_posting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.bulk import BulkInsert, chunked
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
_HUNDRED = Decimal(100)  # cents in a unit, a Decimal: multiplying by it is quicker than by an int
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


class PostedKey(NamedTuple):
    fingerprint: str
    fiscal_year: str
    number: int
    entry_id: str


def idempotency_conflict(entry: Entry, key: str, posted: PostedKey) -> CheckResult:
    other = (
        "other content"
        if posted.entry_id == entry.id
        else f"another entry's content (entry {posted.entry_id!r})"
    )
    finding = Finding(
        "idempotency_conflict",
        None,
        f"key {key!r} was already posted as entry {posted.number} of fiscal year"
        f" {posted.fiscal_year} with {other}; posted entries are never changed",
        (("number", str(posted.number)), ("fiscal_year", posted.fiscal_year)),
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
    numbering = Numbering.start(connection, folder, posted_at)
    store = Store(connection)
    with collector.paused():
        for chunk in chunks(entries, chunk_size):
            prepared = numbering.prepare(chunk, key)
            store.insert(prepared)
            for result in prepared.results():
                on_result(result)
    store.save_counters(numbering.counters)
    return numbering.summary(folder)


def chunks(entries: Iterable[Entry], size: int) -> Iterator[list[Entry]]:
    if size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {size}")
    return chunked(entries, size)


def _known_keys_query(connection: Connection) -> sa.Select[Any]:
    """The entries of a folder already posted under any of the `keys`, in one query."""
    columns = (
        posted_entries.c.key,
        posted_entries.c.fingerprint,
        posted_entries.c.fiscal_year,
        posted_entries.c.number,
        posted_entries.c.entry_id,
    )
    of_folder = posted_entries.c.folder_id == sa.bindparam("folder_id")
    if connection.dialect.name != "postgresql":
        return sa.select(*columns).where(
            of_folder, posted_entries.c.key.in_(sa.bindparam("keys", expanding=True))
        )
    from sqlalchemy.dialects import postgresql  # loaded only where it is used

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

    def __init__(self, connection: Connection, last_id: int | None) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.last_id = last_id

    @staticmethod
    def last_used(connection: Connection) -> int | None:
        """SQLite: the largest id so far, read in the batch's writing transaction, which holds
        the database's write lock from its start: nobody else inserts until it ends."""
        if connection.dialect.name == "postgresql":
            return None  # a sequence hands them out
        last = connection.scalar(sa.select(sa.func.coalesce(sa.func.max(posted_entries.c.id), 0)))
        assert last is not None  # coalesce
        return int(last)

    def reserve(self, count: int) -> list[int]:
        if self.last_id is None:
            return list(
                self.connection.scalars(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence('ledger_entries', 'id'))"
                        " FROM generate_series(1, :count)"
                    ),
                    {"count": count},
                )
            )
        first = self.last_id + 1
        self.last_id += count
        return list(range(first, first + count))


@dataclass(slots=True)
class Counters:
    """The folder's last entry number per fiscal year: as found, and as the batch moves them."""

    folder_id: int
    last_numbers: dict[str, int]
    found: frozenset[str]
    moved: set[str] = field(default_factory=set)  # fiscal years this batch numbers in

    @classmethod
    def read(cls, connection: Connection, folder_id: int) -> Counters:
        last_numbers = {
            row.fiscal_year: row.last_number
            for row in connection.execute(
                sa.select(entry_counters.c.fiscal_year, entry_counters.c.last_number).where(
                    entry_counters.c.folder_id == folder_id
                )
            )
        }
        return cls(folder_id, last_numbers, frozenset(last_numbers))

    def next_number(self, fiscal_year: str) -> int:
        number = self.last_numbers.get(fiscal_year, 0) + 1
        self.last_numbers[fiscal_year] = number
        return number


@dataclass(frozen=True, slots=True)
class Start:
    """What the batch's writing transaction found when it locked the folder, before any
    entry: enough for another connection, reading, to prepare the chunks alike."""

    folder_id: int
    index: FolderIndex
    counters: Counters
    last_id: int | None
    posted_at: datetime

    @classmethod
    def locked(cls, connection: Connection, folder: str, posted_at: datetime) -> Start:
        target = find_folder(connection, folder, lock=True)
        return cls(
            target.id,
            FolderIndex.of(target.setup),
            Counters.read(connection, target.id),
            EntryIds.last_used(connection),
            posted_at,
        )


# An entry posted or replayed, as it travels: its id, number, fiscal year and whether a replay.
Numbered = tuple[str, int, str, bool]


class Prepared(NamedTuple):
    """A chunk ready to store: its results, and the rows of its new entries.

    `numbered` holds one item per entry, in input order: the posted or replayed ones as
    `Numbered`, a None for each rejected one, whose result is the next of `rejected`.
    """

    numbered: list[Numbered | None]
    rejected: list[CheckResult]
    entries: list[Row]
    lines: list[Row]
    allocations: list[Row]

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
    """Prepares the chunks of one batch: keys looked up, entries checked, numbered, made rows.

    It reads through `connection`, the batch's own or one that sees what was committed
    before the batch locked its folder: keys posted by the batch itself are remembered here.
    """

    def __init__(self, connection: Connection, start: Start, *, sees_batch: bool = True) -> None:
        self.connection = connection
        self.folder_id = start.folder_id
        self.index = start.index
        self.counters = start.counters
        self.entry_ids = EntryIds(connection, start.last_id)
        self.known_keys = _known_keys_query(connection)
        entry_values = BulkInsert(connection, posted_entries, ENTRY_COLUMNS)
        self.date_value = entry_values.converter("date")
        self.posted_at = entry_values.converter("posted_at")(start.posted_at)
        # Keys this batch posted, when the connection cannot see them: kept, since what is
        # already posted is looked up before anything else is decided.
        self.posted: dict[str, PostedKey] | None = None if sees_batch else {}
        # A folder with nothing posted when the batch locked it: the only keys to look up
        # are those the batch posted itself, tracked here when the connection sees them.
        self.fresh = not start.counters.found
        self.own: set[str] = set()
        # Per day: its fiscal year and the value the driver stores; a batch has few days.
        self.days: dict[date, tuple[str, Any]] = {}
        self.accepted = self.replayed = self.rejected = 0

    @classmethod
    def start(cls, connection: Connection, folder: str, posted_at: datetime) -> Numbering:
        """The folder locked in the connection's transaction, which also stores the batch."""
        return cls(connection, Start.locked(connection, folder, posted_at))

    def summary(self, folder: str) -> PostingSummary:
        return PostingSummary(
            folder=folder, accepted=self.accepted, replayed=self.replayed, rejected=self.rejected
        )

    def _known(self, keys: list[str]) -> dict[str, PostedKey]:
        posted = self.posted
        known = {} if posted is None else {key: posted[key] for key in keys if key in posted}
        if not self.fresh:
            wanted = list({key for key in keys if key not in known})
        elif posted is None:
            wanted = list({key for key in keys if key in self.own})
        else:
            return known  # every key posted in the folder is in `posted`
        if wanted:
            for row in self.connection.execute(
                self.known_keys, {"folder_id": self.folder_id, "keys": wanted}
            ):
                known[row.key] = PostedKey(
                    row.fingerprint, row.fiscal_year, row.number, row.entry_id
                )
        return known

    def prepare(self, chunk: list[Entry], key: EntryKey) -> Prepared:
        """Each entry's result, in the chunk's order, and the rows of those newly posted."""
        keys = [key(entry) for entry in chunk]
        known = self._known(keys)
        numbered: list[Numbered | None] = []
        rejected: list[CheckResult] = []
        new_entries: list[tuple[Entry, Row]] = []
        posted, own, index = self.posted, self.own, self.index
        next_number = self.counters.next_number
        for entry, entry_key in zip(chunk, keys, strict=True):
            already = known.get(entry_key)
            if already is not None:
                # Posted already (by an earlier batch or earlier in this one): whatever the
                # setup says now, the answer is the first one, or a conflict. The same key
                # holding another id is another entry (a direct post's id written like a
                # workspace key): a conflict, never a replay that would stand for it.
                if fingerprint(entry) == already.fingerprint and entry.id == already.entry_id:
                    numbered.append((entry.id, already.number, already.fiscal_year, True))
                    self.replayed += 1
                else:
                    numbered.append(None)
                    rejected.append(idempotency_conflict(entry, entry_key, already))
                continue
            result = check_entry(entry, index)
            if result.findings:
                numbered.append(None)
                rejected.append(result)
                continue
            fiscal_year, day = self._day(entry)
            number = next_number(fiscal_year)
            entry_fingerprint = fingerprint(entry)
            known[entry_key] = PostedKey(entry_fingerprint, fiscal_year, number, entry.id)
            if posted is not None:
                posted[entry_key] = known[entry_key]
            elif self.fresh:
                own.add(entry_key)
            new_entries.append(
                (
                    entry,
                    (
                        self.folder_id,
                        fiscal_year,
                        number,
                        entry_key,
                        entry_fingerprint,
                        entry.id,
                        entry.journal,
                        day,
                        entry.reference,
                        entry.label,
                        self.posted_at,
                    ),
                )
            )
            numbered.append((entry.id, number, fiscal_year, False))
        self.accepted += len(new_entries)
        self.rejected += len(rejected)
        return Prepared(numbered, rejected, *self._rows(new_entries))

    def _day(self, entry: Entry) -> tuple[str, Any]:
        day = entry.date
        assert day is not None  # an accepted entry has a date
        known = self.days.get(day)
        if known is None:
            year = self.index.fiscal_year_of(day)
            assert year is not None  # an accepted entry's date is in an open fiscal year
            self.counters.moved.add(year.code)
            known = self.days[day] = (year.code, self.date_value(day))
        return known

    def _rows(self, new_entries: list[tuple[Entry, Row]]) -> tuple[list[Row], list[Row], list[Row]]:
        if not new_entries:
            return [], [], []
        ids = self.entry_ids.reserve(len(new_entries))
        entry_rows = [(entry_pk, *row) for entry_pk, (_, row) in zip(ids, new_entries, strict=True)]
        lines: list[Row] = []
        allocations: list[Row] = []
        for entry_pk, (entry, _) in zip(ids, new_entries, strict=True):
            for number, line in enumerate(entry.lines or (), 1):
                debit, credit = line.debit, line.credit
                lines.append(
                    (
                        entry_pk,
                        number,
                        line.account,
                        line.auxiliary,
                        line.label,
                        int(debit * _HUNDRED) if debit else 0,
                        int(credit * _HUNDRED) if credit else 0,
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
                                int(amount * _HUNDRED) if amount else 0,
                            )
                        )
        return entry_rows, lines, allocations


class Store:
    """Stores prepared chunks, and the counters at the end, in the batch's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.insert_entries = BulkInsert(connection, posted_entries, ENTRY_COLUMNS)
        self.insert_lines = BulkInsert(connection, posted_lines, LINE_COLUMNS)
        self.insert_allocations = BulkInsert(connection, posted_allocations, ALLOCATION_COLUMNS)

    def insert(self, prepared: Prepared) -> None:
        self.insert_entries.insert(prepared.entries)
        self.insert_lines.insert(prepared.lines)
        self.insert_allocations.insert(prepared.allocations)

    def save_counters(self, counters: Counters) -> None:
        last_numbers = counters.last_numbers
        updates = [
            {"b_fiscal_year": year, "b_last_number": last_numbers[year]}
            for year in sorted(counters.moved & counters.found)
        ]
        inserts = [
            {
                "folder_id": counters.folder_id,
                "fiscal_year": year,
                "last_number": last_numbers[year],
            }
            for year in sorted(counters.moved - counters.found)
        ]
        if updates:
            self.connection.execute(
                entry_counters.update()
                .where(
                    entry_counters.c.folder_id == counters.folder_id,
                    entry_counters.c.fiscal_year == sa.bindparam("b_fiscal_year"),
                )
                .values(last_number=sa.bindparam("b_last_number")),
                updates,
            )
        if inserts:
            self.connection.execute(entry_counters.insert(), inserts)
