"""Posting with the chunks prepared in forked processes (one reading a stream of entries, or
several reading chunks in turn): the same results and the same stored entries as in one
process, replays and conflicts alike, and nothing stored when either side fails.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import cast

import pytest

from ledgerbridge.db import Database
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.ledger import Ledger, PostingSummary
from ledgerbridge.ledger.forked_posting import EntryChunks, PreparingStopped
from ledgerbridge.ledger.queries import PostedEntry
from tests.integration.ledger_samples import (
    POSTED_AT,
    acme_setup,
    purchase,
    sale,
    without_auxiliary,
)

CHUNK = 3  # entries per chunk: a small batch crosses several


def _batch(count: int = 20, prefix: str = "e") -> list[Entry]:
    """Purchases and sales over both open fiscal years, one in five rejected."""
    days = ("2026-03-14", "2025-09-30", "2026-12-31", "2025-12-31")
    made: list[Entry] = []
    for number in range(count):
        entry_id, day = f"{prefix}{number:03d}", days[number % len(days)]
        if number % 5 == 4:
            made.append(without_auxiliary(entry_id, day))
        elif number % 2:
            made.append(sale(entry_id, day, amount=f"{100 + number}.10"))
        else:
            made.append(purchase(entry_id, day, amount=f"{50 + number}.25"))
    return made


def _post(
    ledger: Ledger,
    entries: Iterable[Entry] | EntryChunks,
    *,
    forked: bool,
    key: Callable[[Entry], str] = lambda entry: entry.id,
    before_commit: Callable[[], None] = lambda: None,
) -> tuple[PostingSummary, list[CheckResult]]:
    results: list[CheckResult] = []
    summary = ledger.post_batch(
        "ACME",
        entries,
        key=key,
        on_result=results.append,
        before_commit=before_commit,
        chunk_size=CHUNK,
        forked=forked,
    )
    return summary, results


def _stored(ledger: Ledger) -> list[tuple[object, ...]]:
    """Everything stored of each posted entry but the time it was posted."""
    return [_without_time(entry) for entry in ledger.posted_entries("ACME")]


def _without_time(entry: PostedEntry) -> tuple[object, ...]:
    return (
        entry.fiscal_year,
        entry.number,
        entry.id,
        entry.key,
        entry.date,
        entry.journal,
        entry.reference,
        entry.label,
        entry.lines,
    )


def _ledger(database: Database) -> Ledger:
    ledger = Ledger(database, clock=lambda: POSTED_AT)
    ledger.apply_setup(acme_setup())
    return ledger


@pytest.fixture
def one_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """Another ledger, to post the same batches in one process and compare."""
    path = tmp_path_factory.mktemp("one-process") / "ledgerbridge.sqlite"
    database = Database.open(url=f"sqlite:///{path}")
    try:
        yield _ledger(database)
    finally:
        database.dispose()


def test_forked_posting_gives_the_results_and_rows_of_one_process(
    acme: Ledger, one_process: Ledger
) -> None:
    batches = [_batch(20), _batch(7, prefix="f")]
    for batch in batches:
        forked = _post(acme, batch, forked=True)
        alone = _post(one_process, batch, forked=False)
        assert forked == alone
    assert _stored(acme) == _stored(one_process)
    summary, results = forked
    assert (summary.accepted, summary.rejected) == (6, 1)
    assert [result.code for result in results if not result.accepted] == ["collective_account"]


def test_numbering_goes_on_where_a_forked_batch_left_it(acme: Ledger) -> None:
    _post(acme, _batch(10), forked=True)
    _, results = _post(acme, [purchase("later", "2025-09-30")], forked=False)
    posted_2025 = [entry for entry in acme.posted_entries("ACME") if entry.fiscal_year == "2025"]
    assert results[0].entry_number == len(posted_2025)
    assert [entry.number for entry in posted_2025] == list(range(1, len(posted_2025) + 1))


def test_a_batch_sent_again_forked_is_answered_with_the_first_numbers(acme: Ledger) -> None:
    batch = _batch(12)
    _, first = _post(acme, batch, forked=False)
    summary, again = _post(acme, batch, forked=True)
    assert summary.accepted == 0
    assert summary.replayed == sum(result.accepted for result in first)
    for before, after in zip(first, again, strict=True):
        assert after.entry_number == before.entry_number
        assert after.replay == before.accepted


def test_a_key_met_again_later_in_the_batch_is_a_replay_or_a_conflict(acme: Ledger) -> None:
    # Keyed by label: the entries of other chunks share the first ones' keys.
    batch = [
        purchase("a", label="one"),
        purchase("b", label="two"),
        purchase("c", label="three"),
        purchase("d", label="four"),
        purchase("a", label="one"),  # the same content under the same key
        purchase("b", label="two", amount="999.00"),  # other content under a posted key
    ]
    forked = _post(acme, batch, forked=True, key=lambda entry: entry.label or "")
    summary, results = forked
    assert (summary.accepted, summary.replayed, summary.rejected) == (4, 1, 1)
    assert results[4].replay and results[4].entry_number == results[0].entry_number
    assert results[5].code == "idempotency_conflict"
    assert len(_stored(acme)) == 4


def test_a_document_found_malformed_at_its_end_stores_nothing(acme: Ledger) -> None:
    def malformed() -> None:
        raise MalformedDocument([Problem("entries[19].date", "not a date")], source="batch.json")

    with pytest.raises(MalformedDocument) as raised:
        _post(acme, _batch(20), forked=True, before_commit=malformed)
    assert raised.value.problems == (Problem("entries[19].date", "not a date"),)
    assert raised.value.source == "batch.json"
    assert _stored(acme) == []


def test_an_error_while_reading_the_entries_stores_nothing(acme: Ledger) -> None:
    def entries() -> Iterator[Entry]:
        yield from _batch(10)
        raise ValueError("the disk went away")

    with pytest.raises(ValueError, match="the disk went away"):
        _post(acme, entries(), forked=True)
    assert _stored(acme) == []
    summary, _ = _post(acme, _batch(10), forked=True)
    assert summary.accepted == 8


def test_a_killed_preparing_process_is_told_and_stores_nothing(acme: Ledger) -> None:
    caller = os.getpid()

    def entries() -> Iterator[Entry]:
        batch = _batch(20)
        yield from batch[:10]
        assert os.getpid() != caller, "the entries are read in the forked process"
        os.kill(os.getpid(), signal.SIGKILL)
        yield from batch[10:]

    with pytest.raises(PreparingStopped) as raised:
        _post(acme, entries(), forked=True)
    assert "SIGKILL" in str(raised.value)
    assert "post it again" in str(raised.value)
    assert _stored(acme) == []


def test_a_failure_while_storing_stops_the_preparing_process(
    acme: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked: list[int] = []
    fork = os.fork

    def recorded_fork() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)
    seen: list[CheckResult] = []

    def on_result(result: CheckResult) -> None:
        seen.append(result)
        if len(seen) == 4:
            raise RuntimeError("the terminal went away")

    with pytest.raises(RuntimeError, match="the terminal went away"):
        acme.post_batch("ACME", _batch(40), on_result=on_result, chunk_size=CHUNK, forked=True)
    assert _stored(acme) == []
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):  # the forked process was stopped and waited for
        os.waitpid(forked[0], os.WNOHANG)


def test_an_in_memory_database_posts_in_one_process() -> None:
    database = Database.open(url="sqlite://")
    try:
        ledger = _ledger(database)
        caller = os.getpid()
        read_in: list[int] = []

        def entries() -> Iterator[Entry]:
            read_in.append(os.getpid())
            yield from _batch(5)

        summary, _ = _post(ledger, entries(), forked=True)
        assert summary.accepted == 4
        assert read_in == [caller]
    finally:
        database.dispose()


class _Chunks:
    """A batch in chunks of `CHUNK` entries (`EntryChunks`): each chunk's note tells the
    process that read it; `finish` keeps the notes, or raises `refusal`."""

    def __init__(
        self,
        entries: list[Entry],
        *,
        refusal: Exception | None = None,
        on_read: Callable[[int], None] = lambda number: None,
    ) -> None:
        self.entries = entries
        self.refusal = refusal
        self.on_read = on_read
        self.notes: list[tuple[int, int]] | None = None  # (chunk, process id), once finished

    def __len__(self) -> int:
        return -(-len(self.entries) // CHUNK)

    def read(self, number: int) -> tuple[list[Entry], object]:
        self.on_read(number)
        return self.entries[number * CHUNK : (number + 1) * CHUNK], (number, os.getpid())

    def finish(self, notes: list[object]) -> None:
        self.notes = [cast(tuple[int, int], note) for note in notes]
        if self.refusal is not None:
            raise self.refusal


@pytest.fixture
def three_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks read by three forked processes, whatever the machine's cores."""
    monkeypatch.setattr("ledgerbridge.ledger.service.cores", lambda: 3)


@pytest.mark.usefixtures("three_processes")
def test_chunks_read_by_several_processes_give_the_results_and_rows_of_one_process(
    acme: Ledger, one_process: Ledger
) -> None:
    for batch in (_batch(20), _batch(7, prefix="f"), _batch(12)):
        chunks = _Chunks(batch)
        forked = _post(acme, chunks, forked=True)
        alone = _post(one_process, batch, forked=False)
        assert forked == alone
        assert chunks.notes is not None
        assert [number for number, _ in chunks.notes] == list(range(len(chunks)))
    assert _stored(acme) == _stored(one_process)
    readers = {reader for _, reader in chunks.notes or ()}
    assert len(readers) == 3 and os.getpid() not in readers


@pytest.mark.usefixtures("three_processes")
def test_a_key_met_again_in_a_chunk_another_process_read_is_a_replay_or_a_conflict(
    acme: Ledger,
) -> None:
    batch = [
        purchase("a", label="one"),
        purchase("b", label="two"),
        purchase("c", label="three"),
        purchase("d", label="four"),
        purchase("a", label="one"),
        purchase("b", label="two", amount="999.00"),
    ]
    summary, results = _post(acme, _Chunks(batch), forked=True, key=lambda e: e.label or "")
    assert (summary.accepted, summary.replayed, summary.rejected) == (4, 1, 1)
    assert results[4].replay and results[4].entry_number == results[0].entry_number
    assert results[5].code == "idempotency_conflict"
    assert len(_stored(acme)) == 4


@pytest.mark.usefixtures("three_processes")
def test_chunks_refused_at_their_finish_store_nothing(acme: Ledger) -> None:
    refusal = MalformedDocument([Problem("entries[19].date", "not a date")], source="b.json")
    with pytest.raises(MalformedDocument) as raised:
        _post(acme, _Chunks(_batch(20), refusal=refusal), forked=True)
    assert raised.value.problems == (Problem("entries[19].date", "not a date"),)
    assert _stored(acme) == []


@pytest.mark.usefixtures("three_processes")
def test_a_chunk_that_fails_to_read_stores_nothing(acme: Ledger) -> None:
    def on_read(number: int) -> None:
        if number == 4:
            raise ValueError("the disk went away")

    with pytest.raises(ValueError, match="the disk went away"):
        _post(acme, _Chunks(_batch(20), on_read=on_read), forked=True)
    assert _stored(acme) == []


@pytest.mark.usefixtures("three_processes")
def test_a_killed_process_reading_chunks_is_told_and_stores_nothing(acme: Ledger) -> None:
    def on_read(number: int) -> None:
        if number == 5:
            os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(PreparingStopped) as raised:
        _post(acme, _Chunks(_batch(20), on_read=on_read), forked=True)
    assert "SIGKILL" in str(raised.value)
    assert _stored(acme) == []
    summary, _ = _post(acme, _Chunks(_batch(20)), forked=True)
    assert summary.accepted == 16


def test_chunks_posted_in_one_process_are_read_in_turn_and_finished(
    acme: Ledger, one_process: Ledger
) -> None:
    chunks = _Chunks(_batch(20))
    assert _post(acme, chunks, forked=False) == _post(one_process, _batch(20), forked=False)
    assert chunks.notes == [(number, os.getpid()) for number in range(len(chunks))]


def test_only_a_killed_process_points_at_the_machine_s_memory() -> None:
    killed = str(PreparingStopped(-signal.SIGKILL))
    terminated = str(PreparingStopped(-signal.SIGTERM))
    assert "SIGKILL" in killed and "free memory" in killed
    assert "SIGTERM" in terminated and "free memory" not in terminated
    assert "post it again" in terminated
