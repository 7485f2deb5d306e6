"""Deposits: a batch is kept as rows until injected, once per batch id, whole or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.relay import BatchIdTaken, OutgoingBatch, OutgoingEntry, ReferenceItem, Relay
from tests.integration.ledger_samples import purchase, sale
from tests.integration.relay_samples import (
    NOW,
    batch_with_a_malformed_entry,
    content,
    document,
    entries_batch,
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
    batch = batch_with_a_malformed_entry()

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
            entries=(OutgoingEntry("ACME/a/1", content(document(purchase("a")))),),
            kind="reference",
        )


def test_a_batch_id_already_holding_another_folders_batch_is_refused(relay: Relay) -> None:
    relay.deposit(entries_batch("b-1", purchase("a")))

    with pytest.raises(BatchIdTaken, match="the entries batch of folder ACME"):
        relay.deposit(entries_batch("b-1", purchase("a"), folder="OTHER"))

    assert relay.waiting("OTHER") == []
