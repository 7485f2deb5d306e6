"""Opening a folder's accounting: its waiting batches claimed, injected and answered.

An opening claims a batch before posting it, so that two openings never inject the same
batch; the claim lapses when its process is gone (same host) or after INJECTION_LEASE. The
answers are stored with the batch's new state in one transaction, which also lets its items
go: a crash before leaves the batch waiting, its items kept, and the next opening injects it
again (the ledger answers replays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import sqlalchemy as sa

from ledgerbridge.bulk import BulkInsert, chunked
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock
from ledgerbridge.processes import holder_is_gone, holder_name
from ledgerbridge.relay.chunks import answers_json, items_from_json
from ledgerbridge.relay.injection import (
    Injection,
    InjectionLedger,
    StoredItem,
    inject_entries,
    inject_reference,
)
from ledgerbridge.relay.tables import INJECTED, WAITING, batches, item_chunks, result_chunks
from ledgerbridge.relay.values import ENTRIES, BatchKind, OpeningReport

# How long an opening's claim on a batch holds against openings on other hosts; on the
# same host, a claim lapses as soon as its process is gone.
INJECTION_LEASE = timedelta(minutes=10)
# Entries of a batch from which the ledger may read and check them in another process, kept
# for every batch this process injects (ledger/forked_posting). Measured, 100,000 entries
# injected in batches of each size, aside against here: 500, 1.64 and 1.42 s against 1.80 and
# 1.65; 250, even; 125, 3.97 and 4.99 s against 3.27 and 3.39 (waiting for each batch's first
# piece costs more than the overlap gives).
FORKED_FROM_ITEMS = 500
T = TypeVar("T")
Progress = Callable[[int, int], None]  # (items done, items in all)


class Openings:
    """The injection side of the relay: waiting batches claimed, read, posted through the
    ledger, and their answers stored."""

    def __init__(self, database: Database, clock: Clock, chunk_size: int) -> None:
        self._database = database
        self._clock = clock
        self._chunk_size = chunk_size  # answers per chunk stored

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
                else:
                    injection = inject_entries(
                        ledger,
                        folder,
                        told.as_read(items),
                        forked=forked and size >= FORKED_FROM_ITEMS,
                    )
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
            row = connection.execute(_CLAIM_OF, {"batch": batch_pk}).one()
            if row.state != WAITING:
                return None
            held = row.claimed_by is not None and row.claimed_until is not None
            if held and row.claimed_until > now and not holder_is_gone(row.claimed_by):
                return None
            claim = holder_name()
            taken = connection.execute(
                _CLAIM_FREE if row.claimed_by is None else _CLAIM_TAKEN_OVER,
                {
                    "batch": batch_pk,
                    "held_by": row.claimed_by,
                    "claim": claim,
                    "until": now + INJECTION_LEASE,
                },
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
                for row in connection.execute(_WAITING_BATCHES, {"folder": folder})
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
        """The batch's items, in order, a chunk at a time."""
        for chunk in self._read_chunks(batch_pk):
            items = items_from_json(chunk)
            yield from items
            if items[-1].position == size - 1:
                return  # its last item (positions run from 0): no chunk follows

    def _read_chunks(self, batch_pk: int) -> Iterator[str]:
        """The batch's chunks of items, in order, each in a short read.

        No read stays open while the ledger posts, so SQLite's writer is never held up
        and a batch of any size is never read whole. A chunk is found by the position of
        its first item, whatever the size of the chunks the batch was deposited in.
        """
        after = -1
        while True:
            with self._database.transaction(write=False) as connection:
                row = connection.execute(_CHUNK_AFTER, {"batch": batch_pk, "after": after}).first()
            if row is None:
                return
            after, items = row
            yield items

    def _store_injection(
        self, batch_pk: int, folder: str, injection: Injection, claim: str
    ) -> bool:
        """The answers and the batch's new state, in one transaction; False when the claim
        was lost meanwhile (its lease over): then the other opening's answers stand."""
        now = self._clock()
        with self._database.transaction() as connection:
            marked = connection.execute(_INJECTED, {"batch": batch_pk, "claim": claim, "at": now})
            if marked.rowcount != 1:
                return False
            # Injected, the batch's items are never read again: the ledger holds what it
            # posted, and the answers say what became of each. Kept, they would grow the
            # relay by every entry ever sent.
            connection.execute(_DROP_ITEMS, {"batch": batch_pk})
            statement = BulkInsert(
                connection,
                result_chunks,
                ("batch", "first_position", "folder", "answers", "created_at"),
            )
            created_at = statement.converter("created_at")(now)
            # In the batch's order: the chunks' ids are the order the workspace reads them in.
            statement.insert(
                [
                    (batch_pk, chunk[0].position, folder, answers_json(chunk), created_at)
                    for chunk in chunked(injection.answers, self._chunk_size)
                ]
            )
        return True


# The statements of each batch's opening, built once: a statement made anew costs more than
# running it (a tenth of a millisecond).
_WAITING_BATCHES = (
    sa.select(batches.c.id, batches.c.kind, batches.c.size)
    .where(batches.c.folder == sa.bindparam("folder"), batches.c.state == WAITING)
    .order_by(batches.c.id)
)
_CLAIM_OF = sa.select(batches.c.state, batches.c.claimed_by, batches.c.claimed_until).where(
    batches.c.id == sa.bindparam("batch")
)
_CLAIM_FREE = (
    batches.update()
    .where(
        batches.c.id == sa.bindparam("batch"),
        batches.c.state == WAITING,
        batches.c.claimed_by.is_(None),
    )
    .values(claimed_by=sa.bindparam("claim"), claimed_until=sa.bindparam("until"))
)
_CLAIM_TAKEN_OVER = (  # from an opening whose lease ran out, or whose process is gone
    batches.update()
    .where(
        batches.c.id == sa.bindparam("batch"),
        batches.c.state == WAITING,
        batches.c.claimed_by == sa.bindparam("held_by"),
    )
    .values(claimed_by=sa.bindparam("claim"), claimed_until=sa.bindparam("until"))
)
_CHUNK_AFTER = (
    # `.c["items"]`: `.c.items` is the column collection's own method.
    sa.select(item_chunks.c.first_position, item_chunks.c["items"])
    .where(
        item_chunks.c.batch == sa.bindparam("batch"),
        item_chunks.c.first_position > sa.bindparam("after"),
    )
    .order_by(item_chunks.c.first_position)
    .limit(1)
)
_INJECTED = (
    batches.update()
    .where(
        batches.c.id == sa.bindparam("batch"),
        batches.c.state == WAITING,
        batches.c.claimed_by == sa.bindparam("claim"),
    )
    .values(
        state=INJECTED,
        injected_at=sa.bindparam("at"),
        last_attempt_at=sa.bindparam("at"),
        last_wait_reason=None,
        claimed_by=None,
        claimed_until=None,
    )
)
_DROP_ITEMS = item_chunks.delete().where(item_chunks.c.batch == sa.bindparam("batch"))


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
            refused_items=tuple(item for injection in every for item in injection.refused_items),
            busy_batches=self.busy,
        )
