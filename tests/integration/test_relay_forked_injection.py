"""Injecting a batch with its entries read and checked in the process the ledger keeps for
it: each answer paired with its own item, in order, exactly once; the kept process reused
from batch to batch, stopped with a batch that fails, and a ledger out of step refused."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry, decode_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.setup import FolderSetup, parse_setup
from ledgerbridge.ledger import Ledger, forked_posting
from ledgerbridge.ledger.forked_posting import EntryDocuments, PreparingProcess, PreparingStopped
from ledgerbridge.relay import Relay, injection
from ledgerbridge.relay import opening as relay_opening
from ledgerbridge.relay.injection import LedgerOutOfStep, StoredItem, inject_entries
from ledgerbridge.relay.opening import Openings
from tests.integration.ledger_samples import acme_document, purchase, sale, without_auxiliary
from tests.integration.relay_samples import (
    NOW,
    CrashAfterPosting,
    SimulatedCrash,
    content,
    document,
    entries_batch,
)

COUNT = 12  # entries of the batch; above the threshold the test sets, in several pieces


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batches posted with the kept process preparing them (their folders), handed to it
    4 entries at a time."""
    posted: list[str] = []
    post = forked_posting.post_documents_aside

    def counted(connection: Connection, folder: str, *args: Any, **options: Any) -> Any:
        posted.append(folder)
        return post(connection, folder, *args, **options)

    monkeypatch.setattr(forked_posting, "post_documents_aside", counted)
    monkeypatch.setattr(relay_opening, "FORKED_FROM_ITEMS", 5)
    monkeypatch.setattr(injection, "DOCUMENTS_AT_ONCE", 4)
    return posted


def _kept_pid() -> int | None:
    kept = PreparingProcess._kept
    return kept.pid if kept is not None and kept.owner == os.getpid() else None


@pytest.fixture
def linked(database: Database) -> Relay:
    """A relay reading 4 items at a time, ACME's connector active, the administrator in."""
    relay = Relay(database, FixedClock(NOW), chunk_size=4)
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    return relay


def _entries() -> list[Entry]:
    """Purchases and sales over both open fiscal years; every fourth one rejected."""
    made: list[Entry] = []
    for number in range(COUNT):
        entry_id = f"e{number:02d}"
        if number % 4 == 3:
            made.append(without_auxiliary(entry_id))
        elif number % 2:
            made.append(sale(entry_id, "2025-10-02"))
        else:
            made.append(purchase(entry_id))
    return made


def test_a_large_batch_injected_forked_answers_each_item_with_its_own_result(
    linked: Relay, acme: Ledger, forks: list[str]
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))
    heard: list[tuple[int, int]] = []

    report = linked.open_folder(
        "ACME", acme, forked=True, progress=lambda done, total: heard.append((done, total))
    )

    assert len(forks) == 1
    assert (report.posted, report.replayed, report.rejected) == (9, 0, 3)
    results = linked.collect_results("ACME")
    assert [r.key for r in results] == [f"ACME/e{n:02d}/1" for n in range(COUNT)]
    assert [r.result["id"] for r in results] == [f"e{n:02d}" for n in range(COUNT)]
    rejected = [r.result["id"] for r in results if r.result["status"] == "rejected"]
    assert rejected == ["e03", "e07", "e11"]
    assert {r.result["code"] for r in results if r.result["status"] == "rejected"} == {
        "collective_account"
    }
    numbers = [
        (r.result["id"], r.result["fiscal_year"], r.result["entry_number"])
        for r in results
        if r.result["status"] == "accepted"
    ]
    assert numbers == [
        ("e00", "2026", 1),
        ("e01", "2025", 1),
        ("e02", "2026", 2),
        ("e04", "2026", 3),
        ("e05", "2025", 2),
        ("e06", "2026", 4),
        ("e08", "2026", 5),
        ("e09", "2025", 3),
        ("e10", "2026", 6),
    ]
    posted = {(e.id, e.fiscal_year, e.number) for e in acme.posted_entries("ACME")}
    assert posted == set(numbers)
    assert heard[-1] == (COUNT, COUNT)


def test_a_small_batch_is_injected_in_one_process_even_when_forking_is_allowed(
    linked: Relay, acme: Ledger, forks: list[str]
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()[:4]))

    report = linked.open_folder("ACME", acme, forked=True)

    assert forks == []
    assert (report.posted, report.rejected) == (3, 1)


def test_a_forked_injection_whose_answers_were_lost_is_answered_again_as_replays(
    linked: Relay, acme: Ledger, forks: list[str]
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))
    with pytest.raises(SimulatedCrash):
        linked.open_folder("ACME", CrashAfterPosting(acme), forked=True)
    first = sorted((e.id, e.fiscal_year, e.number) for e in acme.posted_entries("ACME"))
    assert len(first) == 9
    assert linked.collect_results("ACME") == []

    report = linked.open_folder("ACME", acme, forked=True)

    assert len(forks) == 2
    assert (report.posted, report.replayed, report.rejected) == (0, 9, 3)
    assert sorted((e.id, e.fiscal_year, e.number) for e in acme.posted_entries("ACME")) == first
    answered = {
        (r.result["id"], r.result["fiscal_year"], r.result["entry_number"])
        for r in linked.collect_results("ACME")
        if r.result["status"] == "accepted" and r.result["replay"]
    }
    assert sorted(answered) == first


class _AnswersWrongly:
    """A ledger that takes every entry and answers `skip` fewer, or one more, than given;
    `aside`: it takes them as documents, unread, as a ledger reading them elsewhere does."""

    def __init__(self, *, skip: int = 0, extra: bool = False, aside: bool = False) -> None:
        self.skip = skip
        self.extra = extra
        self.aside = aside

    def folders(self) -> list[str]:
        return ["ACME"]

    def has_folder(self, folder: str) -> bool:
        return folder == "ACME"

    def folder_setup(self, folder: str) -> FolderSetup:
        raise NotImplementedError

    def apply_setup(self, setup: FolderSetup) -> object:
        raise NotImplementedError

    def post_batch(
        self,
        folder: str,
        entries: Iterable[Entry],
        *,
        key: Callable[[Entry], str],
        on_result: Callable[[CheckResult], None],
        forked: bool = False,
    ) -> object:
        if self.aside:
            assert isinstance(entries, EntryDocuments)
            given = [decode_entry(text) for piece in entries.documents() for _, _, text in piece]
        else:
            given = list(entries)
            for entry in given:
                key(entry)
        answered = given[: len(given) - self.skip] + (given[:1] if self.extra else [])
        for entry in answered:
            on_result(CheckResult(id=entry.id, entry_number=1, fiscal_year="2026"))
        return None


def _items(count: int) -> list[StoredItem]:
    return [
        StoredItem(n, f"ACME/e{n}/1", "entry", content(document(purchase(f"e{n}"))))
        for n in range(count)
    ]


@pytest.mark.parametrize("aside", [False, True], ids=["read here", "read aside"])
def test_a_ledger_leaving_entries_unanswered_is_out_of_step(aside: bool) -> None:
    with pytest.raises(LedgerOutOfStep, match="left 1 entry unanswered"):
        inject_entries(_AnswersWrongly(skip=1, aside=aside), "ACME", _items(3))


@pytest.mark.parametrize("aside", [False, True], ids=["read here", "read aside"])
def test_a_ledger_answering_an_entry_never_given_is_out_of_step(aside: bool) -> None:
    with pytest.raises(LedgerOutOfStep, match="answered entry 'e0', never given"):
        inject_entries(_AnswersWrongly(extra=True, aside=aside), "ACME", _items(3))


def test_the_kept_process_prepares_batch_after_batch_against_each_batchs_setup(
    linked: Relay, acme: Ledger, forks: list[str]
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))
    first = linked.open_folder("ACME", acme, forked=True)
    kept = _kept_pid()
    # The purchases journal made read-only in the ledger: purchases are refused from now on.
    document = acme_document()
    for journal in document["journals"]:
        if journal["code"] == "ACH":
            journal["status"] = "read_only"
    acme.apply_setup(parse_setup(document))
    again = [
        sale(f"n{n:02d}", "2025-10-02") if n % 2 else purchase(f"n{n:02d}") for n in range(COUNT)
    ]
    linked.deposit(entries_batch("b-2", *again))

    second = linked.open_folder("ACME", acme, forked=True)

    assert forks == ["ACME", "ACME"]
    assert kept is not None and _kept_pid() == kept
    assert (first.posted, first.rejected) == (9, 3)
    assert (second.posted, second.rejected) == (COUNT // 2, COUNT // 2)
    refused = [
        (r.result["id"], r.result["code"])
        for r in linked.collect_results("ACME")
        if r.batch_id == "b-2" and r.result["status"] == "rejected"
    ]
    assert [entry_id for entry_id, _ in refused] == [f"n{n:02d}" for n in range(0, COUNT, 2)]
    assert {code for _, code in refused} == {"journal_locked"}


def test_a_batch_whose_kept_process_is_killed_posts_nothing_waits_and_goes_with_another(
    linked: Relay, acme: Ledger, forks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))
    linked.open_folder("ACME", acme, forked=True)
    linked.deposit(entries_batch("b-2", *[purchase(f"k{n:02d}") for n in range(COUNT)]))
    killed = _kept_pid()
    assert killed is not None
    read_items = Openings._read_items

    def killed_halfway(self: Openings, batch_pk: int, size: int) -> Iterator[StoredItem]:
        for position, item in enumerate(read_items(self, batch_pk, size)):
            if position == size // 2:
                os.kill(killed, signal.SIGKILL)
                _wait_until_gone(killed)
            yield item

    with monkeypatch.context() as patch:
        patch.setattr(Openings, "_read_items", killed_halfway)
        with pytest.raises(PreparingStopped, match="SIGKILL"):
            linked.open_folder("ACME", acme, forked=True)

    assert _kept_pid() is None
    assert len(list(acme.posted_entries("ACME"))) == 9
    assert [batch.batch_id for batch in linked.waiting("ACME")] == ["b-2"]
    assert [r.batch_id for r in linked.collect_results("ACME")] == ["b-1"] * COUNT

    report = linked.open_folder("ACME", acme, forked=True)

    assert _kept_pid() not in {None, killed}
    assert (report.posted, report.replayed, report.rejected) == (COUNT, 0, 0)
    assert len(list(acme.posted_entries("ACME"))) == 9 + COUNT
    assert linked.waiting("ACME") == []


def test_a_kept_process_gone_between_two_batches_is_forked_again(
    linked: Relay, acme: Ledger, forks: list[str]
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))
    linked.open_folder("ACME", acme, forked=True)
    gone = _kept_pid()
    assert gone is not None
    os.kill(gone, signal.SIGKILL)
    _wait_until_gone(gone)
    linked.deposit(entries_batch("b-2", *[purchase(f"k{n:02d}") for n in range(COUNT)]))

    report = linked.open_folder("ACME", acme, forked=True)

    assert forks == ["ACME", "ACME"]
    assert _kept_pid() not in {None, gone}
    assert (report.posted, report.rejected) == (COUNT, 0)


def _wait_until_gone(pid: int) -> None:
    """Until process `pid`, killed, has ended (a child of this one: it stays a zombie)."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 10
    while stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.005)


def test_a_malformed_document_read_aside_fails_the_batch_as_it_would_read_here(
    acme: Ledger,
) -> None:
    bad = document(purchase("bad"))
    bad["lines"][0]["debt"] = bad["lines"][0].pop("debit")
    items = [*_items(5), StoredItem(5, "ACME/bad/1", "entry", content(bad))]
    failures = []
    for forked in (False, True):
        with pytest.raises(MalformedDocument) as raised:
            inject_entries(acme, "ACME", items, forked=forked)
        failures.append([str(problem) for problem in raised.value.problems])

    assert failures[0] == failures[1] and "debt" in failures[0][0]
    assert list(acme.posted_entries("ACME")) == []
    assert _kept_pid() is None  # stopped with the batch; the next one forks another
    report = inject_entries(acme, "ACME", _items(5), forked=True)
    assert report.posted == 5


def test_a_batch_while_another_thread_has_the_kept_process_is_read_in_this_one(
    linked: Relay, acme: Ledger, forks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))

    def never(cls: type[PreparingProcess]) -> PreparingProcess:
        raise AssertionError("the kept process was asked for")

    monkeypatch.setattr(PreparingProcess, "kept", classmethod(never))
    with forked_posting._KEPT_IN_USE:  # another thread's batch, as a server would run it
        report = linked.open_folder("ACME", acme, forked=True)

    assert forks == ["ACME"]
    assert (report.posted, report.replayed, report.rejected) == (9, 0, 3)
    assert [r.result["id"] for r in linked.collect_results("ACME")] == [
        f"e{n:02d}" for n in range(COUNT)
    ]
