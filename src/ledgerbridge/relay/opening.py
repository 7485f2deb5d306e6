"""Opening a folder's accounting: its waiting batches claimed, injected and answered.

An opening claims a batch before posting it, so that two openings never inject the same
batch; the claim lapses when its process is gone (same host) or after INJECTION_LEASE. The
answers are stored with the batch's new state in one transaction: a crash before leaves the
batch waiting, and the next opening injects it again (the ledger answers replays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from ledgerbridge.bulk import BulkInsert, chunked
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock
from ledgerbridge.processes import holder_is_gone, holder_name
from ledgerbridge.relay.injection import (
    Answer,
    Injection,
    InjectionLedger,
    StoredItem,
    inject_entries,
    inject_reference,
)
from ledgerbridge.relay.tables import (
    INJECTED,
    WAITING,
    WRITE_CHUNK,
    batch_items,
    batches,
    results,
)
from ledgerbridge.relay.values import ENTRIES, BatchKind, OpeningReport

# How long an opening's claim on a batch holds against openings on other hosts; on the
# same host, a claim lapses as soon as its process is gone.
INJECTION_LEASE = timedelta(minutes=10)
# Entries of a batch from which a forked process reading and checking them pays for itself
# (measured: 17-25% quicker from 20,000 entries on; slower below about 10,000, where
# starting it and waiting for its first chunk cost more than the overlap gives).
FORKED_FROM_ITEMS = 20_000
T = TypeVar("T")
Progress = Callable[[int, int], None]  # (items done, items in all)


class Openings:
    """The injection side of the relay: waiting batches claimed, read, posted through the
    ledger, and their answers stored."""

    def __init__(self, database: Database, clock: Clock, chunk_size: int) -> None:
        self._database = database
        self._clock = clock
        self._chunk_size = chunk_size

    def inject_waiting(
        self, folder: str, ledger: InjectionLedger, progress: Progress | None, *, forked: bool
    ) -> OpeningReport:
        """Inject the folder's waiting batches, in deposit order, each claimed first."""
        report = _Tally(folder)
        batches_waiting = self._waiting_batches(folder)
        told = _Told(progress, sum(size for _, _, size in batches_waiting))
        for batch_pk, kind, size in batches_waiting:
            claim = self._claim(batch_pk)
            if claim is None:
                report.busy += 1  # another opening injects it now; its answers will stand
                told.skip(size)
                continue
            stored = False
            try:
                items = self._read_items(batch_pk, size)
                if kind != ENTRIES:
                    injection = inject_reference(ledger, folder, told.as_read(items))
                elif forked and size >= FORKED_FROM_ITEMS:
                    # The forked process reads the items; this one tells progress by answers.
                    answered = told.as_read(self._read_item_keys(batch_pk, size))
                    injection = inject_entries(ledger, folder, items, answered_in_order=answered)
                else:
                    injection = inject_entries(ledger, folder, told.as_read(items))
                stored = self._store_injection(batch_pk, folder, injection, claim)
                if stored:
                    report.add(injection)
            finally:
                if not stored:
                    self._release(batch_pk, claim)
        return report.report()

    # A batch is injected by one opening at a time. Two openings posting the same batch
    # would each be right about the entries, replays included, but not about the rejected
    # ones: after a change of the folder's setup, an entry the first rejected may be posted
    # by the second, whose answers would then be lost. The claim is taken before posting;
    # it lapses when the opening's process is gone (same host) or after INJECTION_LEASE.

    def _claim(self, batch_pk: int) -> str | None:
        """Claim the waiting batch for this opening; None when another opening holds it."""
        now = self._clock()
        with self._database.transaction() as connection:
            row = connection.execute(
                sa.select(batches.c.state, batches.c.claimed_by, batches.c.claimed_until).where(
                    batches.c.id == batch_pk
                )
            ).one()
            if row.state != WAITING:
                return None
            held = row.claimed_by is not None and row.claimed_until is not None
            if held and row.claimed_until > now and not holder_is_gone(row.claimed_by):
                return None
            claim = holder_name()
            taken = connection.execute(
                batches.update()
                .where(
                    batches.c.id == batch_pk,
                    batches.c.state == WAITING,
                    batches.c.claimed_by.is_(None)
                    if row.claimed_by is None
                    else batches.c.claimed_by == row.claimed_by,
                )
                .values(claimed_by=claim, claimed_until=now + INJECTION_LEASE)
            )
            return claim if taken.rowcount == 1 else None

    def _release(self, batch_pk: int, claim: str) -> None:
        """Give the batch back to the next opening (this one stopped before its answers)."""
        with self._database.transaction() as connection:
            connection.execute(
                batches.update()
                .where(batches.c.id == batch_pk, batches.c.claimed_by == claim)
                .values(claimed_by=None, claimed_until=None)
            )

    def _waiting_batches(self, folder: str) -> list[tuple[int, BatchKind, int]]:
        with self._database.transaction(write=False) as connection:
            return [
                (row.id, row.kind, row.size)
                for row in connection.execute(
                    sa.select(batches.c.id, batches.c.kind, batches.c.size)
                    .where(batches.c.folder == folder, batches.c.state == WAITING)
                    .order_by(batches.c.id)
                )
            ]

    def note_waiting(self, folder: str, reason: str | None) -> int:
        """Record on each waiting batch of the folder why it still waits; how many wait."""
        with self._database.transaction() as connection:
            noted = connection.execute(
                batches.update()
                .where(batches.c.folder == folder, batches.c.state == WAITING)
                .values(last_wait_reason=reason, last_attempt_at=self._clock())
            )
            return int(noted.rowcount)

    def _read_items(self, batch_pk: int, size: int) -> Iterator[StoredItem]:
        """The batch's items, in order, by ranges of positions."""
        columns = (batch_items.c.position, batch_items.c.key, batch_items.c.kind)
        rows = self._read_ranges(batch_pk, size, (*columns, batch_items.c.content))
        return map(StoredItem._make, rows)

    def _read_item_keys(self, batch_pk: int, size: int) -> Iterator[tuple[int, str]]:
        """The position and key of each of the batch's items, in order, by ranges."""
        return self._read_ranges(batch_pk, size, (batch_items.c.position, batch_items.c.key))

    def _read_ranges(
        self, batch_pk: int, size: int, columns: tuple[sa.ColumnElement[Any], ...]
    ) -> Iterator[Any]:
        """The batch's items by ranges of positions, each range in a short read.

        No read stays open while the ledger posts, so SQLite's writer is never held up
        and a batch of any size is never read whole.
        """
        query = (
            sa.select(*columns)
            .where(
                batch_items.c.batch == batch_pk,
                batch_items.c.position >= sa.bindparam("start"),
                batch_items.c.position < sa.bindparam("stop"),
            )
            .order_by(batch_items.c.position)
        )
        for start in range(0, size, self._chunk_size):
            with self._database.transaction(write=False) as connection:
                rows = (
                    connection.execute(query, {"start": start, "stop": start + self._chunk_size})
                    .tuples()
                    .all()
                )
            yield from rows

    def _store_injection(
        self, batch_pk: int, folder: str, injection: Injection, claim: str
    ) -> bool:
        """The answers and the batch's new state, in one transaction; False when the claim
        was lost meanwhile (its lease over): then the other opening's answers stand."""
        now = self._clock()
        with self._database.transaction() as connection:
            marked = connection.execute(
                batches.update()
                .where(
                    batches.c.id == batch_pk,
                    batches.c.state == WAITING,
                    batches.c.claimed_by == claim,
                )
                .values(
                    state=INJECTED,
                    injected_at=now,
                    last_attempt_at=now,
                    last_wait_reason=None,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
            if marked.rowcount != 1:
                return False
            statement = BulkInsert(
                connection, results, ("batch", "folder", "created_at", *Answer._fields)
            )
            created_at = statement.converter("created_at")(now)
            flag = statement.converter("expected")
            for chunk in chunked(injection.answers, WRITE_CHUNK):
                statement.insert(
                    [
                        (batch_pk, folder, created_at, position, key, item, result, flag(expected))
                        for position, key, item, result, expected in chunk
                    ]
                )
        return True


class _Told:
    """Tells `progress` how many items were handed to the ledger (forked: answered by it),
    out of all waiting."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def skip(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)

    def as_read(self, items: Iterator[T]) -> Iterator[T]:
        if self.progress is None:
            yield from items
            return
        for item in items:
            self.done += 1
            if not self.done % _PROGRESS_EVERY:
                self.progress(self.done, self.total)
            yield item
        self.progress(self.done, self.total)


_PROGRESS_EVERY = 1000  # items between two words to `progress`


class _Tally:
    """An opening's counts, batch after batch."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.batches = 0
        self.busy = 0
        self.injections: list[Injection] = []

    def add(self, injection: Injection) -> None:
        self.batches += 1
        self.injections.append(injection)

    def report(self) -> OpeningReport:
        every = self.injections
        return OpeningReport(
            folder=self.folder,
            injected_batches=self.batches,
            posted=sum(injection.posted for injection in every),
            replayed=sum(injection.replayed for injection in every),
            rejected=sum(injection.rejected for injection in every),
            expected_rejections=sum(injection.expected_rejections for injection in every),
            reference_added=sum(injection.reference_added for injection in every),
            expected_items=tuple(item for injection in every for item in injection.expected_items),
            busy_batches=self.busy,
        )
