"""Deposits: a batch is kept as rows until injected, once per batch id, whole or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.relay import OutgoingBatch, OutgoingEntry, ReferenceItem, Relay
from tests.integration.ledger_samples import purchase, sale

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def document(entry: Entry) -> dict[str, Any]:
    """The entry as the workspace keeps it (amounts may be Decimal: the relay writes them as text)."""
    return entry.model_dump(exclude_none=True)


def entries_batch(batch_id: str, *entries: Entry, folder: str = "ACME") -> OutgoingBatch:
    return OutgoingBatch(
        batch_id=batch_id,
        folder=folder,
        entries=tuple(
            OutgoingEntry(key=f"{folder}/{entry.id}/1", document=document(entry))
            for entry in entries
        ),
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def relay(database: Database, clock: FixedClock) -> Relay:
    return Relay(database, clock)


def test_a_deposited_batch_waits_for_its_folder(relay: Relay) -> None:
    receipt = relay.deposit(entries_batch("b-1", purchase("a"), sale("b")))

    assert (receipt.batch_id, receipt.size, receipt.already_deposited) == ("b-1", 2, False)
    [waiting] = relay.waiting("ACME")
    assert (waiting.batch_id, waiting.kind, waiting.size, waiting.deposited_at) == (
        "b-1",
        "entries",
        2,
        NOW,
    )
    assert relay.waiting("OTHER") == []


def test_depositing_the_same_batch_id_again_is_a_no_op_returning_the_first_receipt(
    relay: Relay, clock: FixedClock
) -> None:
    first = relay.deposit(entries_batch("b-1", purchase("a")))
    clock.advance(timedelta(minutes=5))

    again = relay.deposit(entries_batch("b-1", purchase("a"), sale("b")))

    assert again.already_deposited
    assert (again.size, again.deposited_at) == (first.size, first.deposited_at)
    assert [(batch.batch_id, batch.size) for batch in relay.waiting("ACME")] == [("b-1", 1)]


def test_waiting_batches_survive_a_restart(database: Database, relay: Relay) -> None:
    relay.deposit(entries_batch("b-1", purchase("a")))
    relay.deposit(entries_batch("b-2", sale("b")))

    restarted = Database.open(url=database.url.render_as_string(hide_password=False))
    try:
        waiting = Relay(restarted, FixedClock(NOW)).waiting("ACME")
    finally:
        restarted.dispose()

    assert [batch.batch_id for batch in waiting] == ["b-1", "b-2"]


def test_a_batch_with_a_malformed_entry_is_refused_whole(relay: Relay) -> None:
    bad = document(purchase("bad"))
    bad["lines"][0]["debt"] = bad["lines"][0].pop("debit")
    batch = OutgoingBatch(
        batch_id="b-1",
        folder="ACME",
        entries=(
            OutgoingEntry("ACME/good/1", document(purchase("good"))),
            OutgoingEntry("ACME/bad/1", bad),
        ),
    )

    with pytest.raises(MalformedDocument) as refused:
        relay.deposit(batch)

    assert [problem.path for problem in refused.value.problems] == ["entries[1].lines[0].debt"]
    assert relay.waiting("ACME") == []


def test_a_reference_batch_with_a_malformed_item_is_refused_whole(relay: Relay) -> None:
    batch = OutgoingBatch.of_reference(
        "ref-1",
        "ACME",
        [
            ReferenceItem("account", {"number": "401100", "name": "Fournisseurs bis"}),
            ReferenceItem("third_party", {"code": "FNEW", "acount": "401100"}),
        ],
    )

    with pytest.raises(MalformedDocument) as refused:
        relay.deposit(batch)

    assert {problem.path for problem in refused.value.problems} == {
        "reference[1].acount",
        "reference[1].account",
    }
    assert relay.waiting("ACME") == []


def test_a_batch_is_entries_or_reference_data_never_both() -> None:
    with pytest.raises(ValueError, match="reference batch carries no entries"):
        OutgoingBatch(
            batch_id="x",
            folder="ACME",
            entries=(OutgoingEntry("ACME/a/1", document(purchase("a"))),),
            kind="reference",
        )
