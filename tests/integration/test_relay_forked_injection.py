"""Injecting a large batch with its entries read and checked in a forked process: each answer
paired with its own item, in order, exactly once, and a ledger out of step refused."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.setup import FolderSetup
from ledgerbridge.ledger import Ledger, forked_posting
from ledgerbridge.ledger.forked_posting import PreparingStopped
from ledgerbridge.relay import Relay
from ledgerbridge.relay import opening as relay_opening
from ledgerbridge.relay.injection import LedgerOutOfStep, StoredItem, inject_entries
from ledgerbridge.relay.opening import Openings
from tests.integration.ledger_samples import purchase, sale, without_auxiliary
from tests.integration.relay_samples import (
    NOW,
    CrashAfterPosting,
    SimulatedCrash,
    content,
    document,
    entries_batch,
)

COUNT = 12  # entries of the batch; above the threshold the test sets, across several ranges


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batches posted with a forked process preparing them (their folders)."""
    posted: list[str] = []
    post = forked_posting.post_batch_forked

    def counted(connection: Connection, folder: str, *args: Any, **options: Any) -> Any:
        posted.append(folder)
        return post(connection, folder, *args, **options)

    monkeypatch.setattr(forked_posting, "post_batch_forked", counted)
    monkeypatch.setattr(relay_opening, "FORKED_FROM_ITEMS", 5)
    return posted


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
    """A ledger that takes every entry and answers `skip` fewer, or one more, than given."""

    def __init__(self, *, skip: int = 0, extra: bool = False) -> None:
        self.skip = skip
        self.extra = extra

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
        given = list(entries)
        for entry in given:
            key(entry)
        answered = given[: len(given) - self.skip] + (given[:1] if self.extra else [])
        for entry in answered:
            on_result(CheckResult(id=entry.id, entry_number=1, fiscal_year="2026"))
        return None


def _items(count: int) -> tuple[list[StoredItem], Iterator[tuple[int, str]]]:
    items = [
        StoredItem(n, f"ACME/e{n}/1", "entry", content(document(purchase(f"e{n}"))))
        for n in range(count)
    ]
    return items, iter([(item.position, item.key) for item in items])


def test_a_ledger_leaving_entries_unanswered_is_out_of_step_when_answers_come_in_order() -> None:
    items, answered = _items(3)

    with pytest.raises(LedgerOutOfStep, match="left 1 entry unanswered"):
        inject_entries(_AnswersWrongly(skip=1), "ACME", items, answered_in_order=answered)


def test_a_ledger_answering_an_entry_never_given_is_out_of_step_when_answers_come_in_order() -> (
    None
):
    items, answered = _items(3)

    with pytest.raises(LedgerOutOfStep, match="answered entry 'e0', never given"):
        inject_entries(_AnswersWrongly(extra=True), "ACME", items, answered_in_order=answered)


def test_a_forked_injection_whose_reading_process_is_killed_posts_nothing_and_waits(
    linked: Relay, acme: Ledger, forks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    linked.deposit(entries_batch("b-1", *_entries()))
    opener = os.getpid()
    read_items = Openings._read_items

    def killed_halfway(self: Openings, batch_pk: int, size: int) -> Iterator[StoredItem]:
        for position, item in enumerate(read_items(self, batch_pk, size)):
            if position == size // 2 and os.getpid() != opener:
                os.kill(os.getpid(), signal.SIGKILL)
            yield item

    with monkeypatch.context() as patch:
        patch.setattr(Openings, "_read_items", killed_halfway)
        with pytest.raises(PreparingStopped, match="SIGKILL"):
            linked.open_folder("ACME", acme, forked=True)

    assert list(acme.posted_entries("ACME")) == []
    assert [batch.batch_id for batch in linked.waiting("ACME")] == ["b-1"]
    assert linked.collect_results("ACME") == []

    report = linked.open_folder("ACME", acme, forked=True)

    assert len(forks) == 2
    assert (report.posted, report.replayed, report.rejected) == (9, 0, 3)
    assert len(list(acme.posted_entries("ACME"))) == 9
    assert linked.waiting("ACME") == []
