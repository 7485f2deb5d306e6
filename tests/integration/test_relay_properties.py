"""Properties of injection over generated batches and crashes (SQLite, one database for all)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.keys import entry_key
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import Relay
from tests.integration.conftest import open_database
from tests.integration.ledger_samples import (
    POSTED_AT,
    acme_setup,
    purchase,
    sale,
    without_auxiliary,
)
from tests.integration.relay_samples import NOW, CrashAfterPosting, SimulatedCrash, entries_batch

_folders = itertools.count(1)


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, Relay]]:
    with open_database("sqlite", Path(tmp_path_factory.mktemp("relay"))) as database:
        relay = Relay(database, FixedClock(NOW), chunk_size=3)
        relay.authenticate_administrator()
        yield Ledger(database, clock=lambda: POSTED_AT), relay


@st.composite
def batches(draw: st.DrawFn) -> list[Entry]:
    makers = [purchase, sale, without_auxiliary]
    kinds = draw(st.lists(st.integers(0, 2), max_size=10))
    days = draw(
        st.lists(
            st.sampled_from(["2025-09-30", "2026-03-14", "2026-11-02"]),
            min_size=len(kinds),
            max_size=len(kinds),
        )
    )
    return [
        makers[kind](f"e{index}", day)
        for index, (kind, day) in enumerate(zip(kinds, days, strict=True))
    ]


@settings(max_examples=25, deadline=None)
@given(batch=batches(), crashes=st.integers(0, 3), resent=st.booleans())
def test_whatever_the_crashes_each_entry_is_posted_once_and_answered_once(
    parts: tuple[Ledger, Relay], batch: list[Entry], crashes: int, resent: bool
) -> None:
    ledger, relay = parts
    folder = f"R{next(_folders)}"
    setup = acme_setup(folder=folder)
    ledger.apply_setup(setup)
    relay.activate_connector(folder, accept=True)
    accepted = [entry.id for entry in batch if check_entry(entry, FolderIndex.of(setup)).accepted]

    relay.deposit(entries_batch(f"{folder}-b", *batch, folder=folder))
    if resent:
        relay.deposit(entries_batch(f"{folder}-b", *batch, folder=folder))
    for _ in range(crashes):
        with pytest.raises(SimulatedCrash):
            relay.open_folder(folder, CrashAfterPosting(ledger))
    relay.open_folder(folder, ledger)

    posted = {entry.id: entry.number for entry in ledger.posted_entries(folder)}
    assert sorted(posted) == sorted(accepted)
    answers = relay.collect_results(folder)
    assert [answer.key for answer in answers] == [entry_key(folder, e.id, 1) for e in batch]
    for answer in answers:
        if answer.result["status"] == "accepted":
            assert answer.result["entry_number"] == posted[answer.result["id"]]
            assert answer.result["replay"] is bool(crashes)
    assert relay.waiting(folder) == []
