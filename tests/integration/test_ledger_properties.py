"""Properties of posting, over generated batches (SQLite, one database for every example)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.ledger import Ledger
from tests.integration.conftest import open_database
from tests.integration.ledger_samples import (
    POSTED_AT,
    acme_setup,
    purchase,
    sale,
    without_auxiliary,
)

_folders = itertools.count(1)
FIRST_DAY = date(2025, 5, 1)  # a locked period and two open fiscal years ahead


@pytest.fixture(scope="module")
def sqlite_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    with open_database("sqlite", Path(tmp_path_factory.mktemp("ledger"))) as database:
        yield Ledger(database, clock=lambda: POSTED_AT)


@st.composite
def entries(draw: st.DrawFn, entry_id: str) -> Entry:
    day = (FIRST_DAY + timedelta(days=draw(st.integers(0, 640)))).isoformat()
    cents = draw(st.integers(1, 10**9))
    amount = str(Decimal(cents).scaleb(-2))
    kind = draw(st.sampled_from(["purchase", "sale", "without auxiliary"]))
    if kind == "purchase":
        return purchase(entry_id, day, amount)
    if kind == "sale":
        return sale(entry_id, day, amount)
    return without_auxiliary(entry_id, day)


@st.composite
def batches(draw: st.DrawFn) -> list[Entry]:
    size = draw(st.integers(0, 12))
    return [draw(entries(f"e{index}")) for index in range(size)]


def post(ledger: Ledger, folder: str, batch: list[Entry]) -> list[CheckResult]:
    results: list[CheckResult] = []
    ledger.post_batch(folder, batch, on_result=results.append, chunk_size=5)
    return results


@settings(max_examples=25, deadline=None)
@given(batch=batches())
def test_posting_the_same_batch_twice_posts_each_entry_once(
    sqlite_ledger: Ledger, batch: list[Entry]
) -> None:
    folder = f"P{next(_folders)}"
    setup = acme_setup(folder=folder)
    sqlite_ledger.apply_setup(setup)
    accepted_by_the_check = [
        entry.id for entry in batch if check_entry(entry, FolderIndex.of(setup)).accepted
    ]

    first = post(sqlite_ledger, folder, batch)
    second = post(sqlite_ledger, folder, batch)

    posted = list(sqlite_ledger.posted_entries(folder))
    assert sorted(entry.id for entry in posted) == sorted(accepted_by_the_check)
    assert [result.id for result in first if result.accepted] == accepted_by_the_check
    assert [(r.id, r.entry_number, r.fiscal_year) for r in second if r.accepted] == [
        (r.id, r.entry_number, r.fiscal_year) for r in first if r.accepted
    ]
    assert all(result.replay for result in second if result.accepted)
    for entry in posted:
        assert sum(line.debit for line in entry.lines) == sum(line.credit for line in entry.lines)
    for fiscal_year in ("2025", "2026"):
        numbers = [entry.number for entry in posted if entry.fiscal_year == fiscal_year]
        assert numbers == list(range(1, len(numbers) + 1))


def _stored(ledger: Ledger, folder: str) -> list[tuple[object, ...]]:
    return [
        (entry.fiscal_year, entry.number, entry.id, entry.key, entry.date, entry.lines)
        for entry in ledger.posted_entries(folder)
    ]


def _shared_key(entry: Entry) -> str:
    """A key several entries of a batch share: later ones are replays or conflicts."""
    return f"k{int(entry.id.removeprefix('e')) % 4}"


@settings(max_examples=15, deadline=None)
@given(batch=batches(), shared_keys=st.booleans(), again=st.booleans())
def test_a_forked_posting_answers_and_stores_as_one_process_does(
    sqlite_ledger: Ledger, batch: list[Entry], shared_keys: bool, again: bool
) -> None:
    key = _shared_key if shared_keys else (lambda entry: entry.id)
    outcomes = []
    for forked in (False, True):
        folder = f"P{next(_folders)}"
        sqlite_ledger.apply_setup(acme_setup(folder=folder))
        results: list[list[CheckResult]] = []
        for _ in range(2 if again else 1):
            answered: list[CheckResult] = []
            summary = sqlite_ledger.post_batch(
                folder, batch, key=key, on_result=answered.append, chunk_size=3, forked=forked
            )
            assert summary.total == len(batch)
            results.append(answered)
        outcomes.append((results, _stored(sqlite_ledger, folder)))
    assert outcomes[0] == outcomes[1]
