"""Exactly once (SPEC §3): the flow from Synchronize to the results in the workspace,
interrupted at every step and then retried, posts each entry once in the ledger and leaves
each workspace entry with one final status, synchronized under the ledger's number."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from ledgerbridge.connectors.base import DepositRefused, IncomingResult, LinkState
from ledgerbridge.connectors.relay_connector import RelayConnector
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry, entry_document
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.setup import FolderSetup, ReferenceData, read_value
from ledgerbridge.platform import Platform
from ledgerbridge.relay.values import OpeningReport, OutgoingBatch
from ledgerbridge.workspace import sync as sync_module
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.sync import ResultsReport, Synchronizer, SyncReport
from ledgerbridge.workspace.tables import entries, history_events, outbox, rejections
from tests.integration.ledger_samples import acme_setup, purchase, sale, without_auxiliary
from tests.integration.relay_samples import entries_batch

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


class Interrupted(Exception):
    """The process dies, or the line drops, at this very step."""


class FlakyConnector:
    """The built-in connector, but a step named by `fail_once` is interrupted once.

    `deposit` is interrupted before the relay has the batch; `deposit_answer` after the
    relay took it, its answer lost on the way back; `acknowledge` before the relay hears
    that the results were applied.
    """

    def __init__(self, inner: RelayConnector) -> None:
        self._inner = inner
        self._failing: set[str] = set()
        self._refusing: tuple[tuple[int, str], ...] | None = None

    def fail_once(self, step: str) -> None:
        self._failing.add(step)

    def refuse_once(self, *problems: tuple[int, str]) -> None:
        """The next deposit is refused for good, these entries (by position) at fault."""
        self._refusing = problems

    def _interrupt(self, step: str) -> None:
        if step in self._failing:
            self._failing.discard(step)
            raise Interrupted(step)

    def folder_exists(self, folder: str) -> bool:
        return self._inner.folder_exists(folder)

    def deposit(self, batch: OutgoingBatch) -> None:
        if self._refusing is not None:
            problems, self._refusing = self._refusing, None
            raise DepositRefused(batch.batch_id, "the ledger cannot read every entry", problems)
        self._interrupt("deposit")
        self._inner.deposit(batch)
        self._interrupt("deposit_answer")

    def collect_results(self, folder: str) -> list[IncomingResult]:
        return self._inner.collect_results(folder)

    def acknowledge(self, folder: str, result_ids: list[int]) -> None:
        self._interrupt("acknowledge")
        self._inner.acknowledge(folder, result_ids)

    def link_state(self, folder: str) -> LinkState:
        return self._inner.link_state(folder)

    def published_setup(self, folder: str) -> tuple[FolderSetup, datetime] | None:
        return self._inner.published_setup(folder)


class Firm:
    """ACME in the ledger, its client in the workspace, the connector active and the
    administrator authenticated: everything passes, but for the interruptions asked for."""

    def __init__(self, database: Database) -> None:
        self.clock = FixedClock(NOW)
        built = Platform.on(database, self.clock)
        self.connector = FlakyConnector(built.connector)
        self.platform = dataclasses.replace(
            built, synchronizer=Synchronizer(database, self.connector, self.clock)
        )
        self.database = database
        self.ledger = built.ledger
        self.relay = built.relay
        self.workspace = Workspace(database, self.connector, self.clock)
        self.ledger.apply_setup(acme_setup())
        self.relay.authenticate_administrator()
        self.relay.activate_connector("ACME", accept=True)
        self.workspace.connect_client("ACME")

    def verified(self, *batch: Entry) -> None:
        self.workspace.import_entries("ACME", batch)
        self.workspace.verify_all("ACME")

    def sync(self) -> SyncReport:
        self.clock.advance(timedelta(minutes=1))
        return self.platform.synchronizer.sync("ACME")

    def open_accounting(self) -> tuple[OpeningReport, ResultsReport]:
        self.clock.advance(timedelta(minutes=1))
        return self.platform.open_accounting("ACME")

    def statuses(self) -> dict[str, Status]:
        return {row.id: row.status for row in self.workspace.list_entries("ACME")}

    def posted(self) -> dict[str, int]:
        """Entry number by id, each posted entry once (a second posting would show twice)."""
        ids = [(entry.id, entry.number) for entry in self.ledger.posted_entries("ACME")]
        numbers = dict(ids)
        assert len(numbers) == len(ids), f"an entry was posted twice: {ids}"
        return numbers

    def waiting_batches(self) -> list[str]:
        return [batch.batch_id for batch in self.relay.waiting("ACME")]

    def table(self, query: sa.Select[Any]) -> list[sa.Row[Any]]:
        with self.database.transaction(write=False) as connection:
            return list(connection.execute(query))

    def final_statuses(self) -> dict[str, list[tuple[int, str]]]:
        """Every change to a final status in the entries' histories: (revision, status)."""
        final = (Status.SYNCHRONIZED, Status.SYNC_FAILED)
        found: dict[str, list[tuple[int, str]]] = {}
        for entry_id in self.table(sa.select(entries.c.entry_id).where(entries.c.client == "ACME")):
            for line in self.workspace.history("ACME", entry_id[0]):
                if line.to_status in final:
                    found.setdefault(entry_id[0], []).append((line.revision, line.to_status.value))
        return found

    def assert_each_posted_once_and_synchronized(self, ids: list[str]) -> None:
        numbers = self.posted()
        assert sorted(numbers) == sorted(ids)
        rows = {row.id: row for row in self.workspace.list_entries("ACME")}
        assert {entry_id: rows[entry_id].status for entry_id in ids} == dict.fromkeys(
            ids, Status.SYNCHRONIZED
        )
        assert {entry_id: rows[entry_id].entry_number for entry_id in ids} == numbers
        synchronized = {
            entry_id: [change for change in changes if change[1] == Status.SYNCHRONIZED.value]
            for entry_id, changes in self.final_statuses().items()
        }
        for entry_id in ids:
            assert synchronized[entry_id] == [(rows[entry_id].revision, "synchronized")]


@pytest.fixture
def firm(database: Database) -> Firm:
    return Firm(database)


def once(
    monkeypatch: pytest.MonkeyPatch,
    target: object,
    name: str,
    *,
    having_worked: bool,
    call: int = 1,
) -> None:
    """`target.name` is interrupted at its `call`-th call, and only then.

    `having_worked`: the interruption comes once the function has done its work (inside a
    transaction: before it commits), else before it starts.
    """
    original = getattr(target, name)
    calls = 0

    def interrupted_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls != call:
            return original(*args, **kwargs)
        if having_worked:
            original(*args, **kwargs)
        raise Interrupted(name)

    monkeypatch.setattr(target, name, interrupted_once)


# -- (1) before the sync's transaction commits -------------------------------------------------


def test_a_sync_that_dies_before_its_transaction_commits_leaves_entries_verified_and_sends_on_retry(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm.verified(purchase("a"), sale("b"))
    once(monkeypatch, sync_module, "move_all", having_worked=True)

    with pytest.raises(Interrupted):
        firm.sync()

    assert firm.statuses() == {"a": Status.VERIFIED, "b": Status.VERIFIED}
    assert firm.table(sa.select(outbox)) == []
    assert firm.waiting_batches() == []

    retried = firm.sync()
    firm.open_accounting()

    assert (retried.sent, retried.resent) == (2, 0)
    firm.assert_each_posted_once_and_synchronized(["a", "b"])


# -- (2) after the outbox transaction, before the deposit ------------------------------------


def test_a_deposit_that_never_reached_the_relay_is_deposited_again_by_the_next_sync(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"), sale("b"))
    firm.connector.fail_once("deposit")

    with pytest.raises(Interrupted):
        firm.sync()

    assert firm.statuses() == {"a": Status.SYNCHRONIZING, "b": Status.SYNCHRONIZING}
    assert firm.waiting_batches() == []
    [unconfirmed] = firm.table(sa.select(outbox))
    assert unconfirmed.deposited_at is None

    retried = firm.sync()

    assert (retried.sent, retried.resent, retried.batch_id) == (0, 2, None)
    assert firm.waiting_batches() == [unconfirmed.batch_id]
    firm.open_accounting()
    firm.assert_each_posted_once_and_synchronized(["a", "b"])


def test_the_next_sync_deposits_the_unconfirmed_batch_and_the_newly_verified_entries_apart(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"))
    firm.connector.fail_once("deposit")
    with pytest.raises(Interrupted):
        firm.sync()
    firm.verified(sale("b"))

    retried = firm.sync()

    assert (retried.sent, retried.resent) == (1, 1)
    assert len(firm.waiting_batches()) == 2
    firm.open_accounting()
    firm.assert_each_posted_once_and_synchronized(["a", "b"])


# -- (3) after the deposit, before the outbox confirmation -----------------------------------


def test_a_batch_deposited_again_after_a_lost_confirmation_is_taken_once_by_the_relay(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"), sale("b"))
    firm.connector.fail_once("deposit_answer")

    with pytest.raises(Interrupted):
        firm.sync()
    [first] = firm.waiting_batches()

    retried = firm.sync()

    assert retried.resent == 2
    assert firm.waiting_batches() == [first]
    assert all(row.deposited_at is not None for row in firm.table(sa.select(outbox)))
    opening, _ = firm.open_accounting()
    assert (opening.injected_batches, opening.posted, opening.replayed) == (1, 2, 0)
    firm.assert_each_posted_once_and_synchronized(["a", "b"])


# -- (4) during injection: posted by the ledger, not stored by the relay ----------------------


def test_an_injection_that_dies_before_the_relay_stores_the_answers_is_replayed_with_the_same_numbers(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm.verified(purchase("a"), sale("b"), without_auxiliary("c"))
    firm.sync()
    once(monkeypatch, firm.relay._openings, "_store_injection", having_worked=False)

    with pytest.raises(Interrupted):
        firm.open_accounting()

    numbers = firm.posted()
    assert sorted(numbers) == ["a", "b"]
    assert set(firm.statuses().values()) == {Status.SYNCHRONIZING}
    assert len(firm.waiting_batches()) == 1

    opening, results = firm.open_accounting()

    assert (opening.posted, opening.replayed, opening.rejected) == (0, 2, 1)
    assert (results.synchronized, results.failed) == (2, 1)
    assert firm.posted() == numbers
    firm.assert_each_posted_once_and_synchronized(["a", "b"])
    assert firm.statuses()["c"] is Status.SYNC_FAILED


def test_an_opening_that_dies_after_a_first_batch_still_brings_that_batchs_results_back(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm.verified(purchase("a"))
    firm.sync()
    firm.verified(sale("b"))
    firm.sync()
    once(monkeypatch, firm.relay._openings, "_store_injection", having_worked=False, call=2)

    with pytest.raises(Interrupted):
        firm.open_accounting()

    assert firm.statuses() == {"a": Status.SYNCHRONIZED, "b": Status.SYNCHRONIZING}
    firm.open_accounting()
    firm.assert_each_posted_once_and_synchronized(["a", "b"])


def test_results_for_a_folder_without_a_client_wait_in_the_relay(firm: Firm) -> None:
    firm.ledger.apply_setup(acme_setup(folder="BETA"))
    firm.relay.activate_connector("BETA", accept=True)
    firm.relay.deposit(entries_batch("beta-1", purchase("x"), folder="BETA"))

    opening, results = firm.platform.open_accounting("BETA")

    assert (opening.posted, results.synchronized, results.ignored) == (1, 0, 0)
    assert [result.key for result in firm.relay.collect_results("BETA")] == ["BETA/x/1"]


# -- (4b) while the results are applied in the workspace -------------------------------------


def test_results_whose_transaction_dies_before_it_commits_are_applied_at_the_next_delivery(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm.verified(purchase("a"), without_auxiliary("b"))
    firm.sync()
    once(monkeypatch, sync_module, "insert_rows", having_worked=True)

    with pytest.raises(Interrupted):
        firm.open_accounting()

    assert firm.statuses() == {"a": Status.SYNCHRONIZING, "b": Status.SYNCHRONIZING}
    assert firm.table(sa.select(rejections)) == []
    assert len(firm.relay.collect_results("ACME")) == 2

    opening, results = firm.open_accounting()

    assert opening.injected_batches == 0
    assert (results.synchronized, results.failed) == (1, 1)
    firm.assert_each_posted_once_and_synchronized(["a"])
    assert firm.final_statuses()["b"] == [(1, "sync_failed")]


# -- (5) after the results were applied, before the acknowledgement ---------------------------


def test_results_received_twice_change_nothing(firm: Firm) -> None:
    firm.workspace.connect_client(
        "ACME", reference=read_value(ReferenceData, {"accounts": [{"number": "401000"}]})
    )
    firm.verified(purchase("a"), without_auxiliary("b"))
    firm.sync()
    firm.connector.fail_once("acknowledge")

    with pytest.raises(Interrupted):
        firm.open_accounting()
    applied = (firm.statuses(), firm.final_statuses(), firm.table(sa.select(rejections)))

    again = firm.platform.synchronizer.receive_results("ACME")

    assert (again.synchronized, again.failed, again.expected_rejections) == (0, 0, 0)
    assert again.ignored == 2
    assert (firm.statuses(), firm.final_statuses(), firm.table(sa.select(rejections))) == applied
    assert firm.relay.collect_results("ACME") == []
    firm.assert_each_posted_once_and_synchronized(["a"])
    assert firm.statuses()["b"] is Status.SYNC_FAILED


def test_a_rejection_received_again_leaves_alone_the_entry_sent_again_after_a_fix_in_the_ledger(
    firm: Firm,
) -> None:
    firm.ledger.apply_setup(
        acme_setup(import_cursor={"locked_periods": [{"from": "2026-03-01", "to": "2026-03-31"}]})
    )
    firm.verified(purchase("a"))
    firm.sync()
    firm.connector.fail_once("acknowledge")
    with pytest.raises(Interrupted):
        firm.open_accounting()
    assert firm.statuses() == {"a": Status.SYNC_FAILED}

    # Fixed in the ledger, marked verified without an edit: the same revision goes again.
    firm.ledger.apply_setup(acme_setup(import_cursor={"locked_periods": []}))
    firm.workspace.verify_failed_with_code("ACME", "import_cursor_locked")
    firm.sync()
    stale = firm.platform.synchronizer.receive_results("ACME")

    assert (stale.failed, stale.ignored) == (0, 1)
    assert firm.statuses() == {"a": Status.SYNCHRONIZING}

    firm.open_accounting()

    firm.assert_each_posted_once_and_synchronized(["a"])
    assert [row.code for row in firm.table(sa.select(rejections))] == ["import_cursor_locked"]


# -- (6) a corrected entry --------------------------------------------------------------------


def test_a_corrected_entry_is_a_new_revision_posted_once(firm: Firm) -> None:
    firm.verified(without_auxiliary("a"))
    firm.sync()
    firm.open_accounting()
    assert firm.statuses() == {"a": Status.SYNC_FAILED}
    assert firm.posted() == {}

    lines = entry_document(purchase("a"))["lines"]
    edited = firm.workspace.edit("ACME", "a", {"lines": lines})
    firm.workspace.verify("ACME", ["a"])
    firm.connector.fail_once("deposit_answer")
    with pytest.raises(Interrupted):
        firm.sync()
    firm.sync()
    firm.open_accounting()
    firm.open_accounting()

    assert edited.revision == 2
    firm.assert_each_posted_once_and_synchronized(["a"])
    [posted] = firm.ledger.posted_entries("ACME")
    assert posted.key == "ACME/a/2"
    assert firm.final_statuses() == {"a": [(1, "sync_failed"), (2, "synchronized")]}


# -- (7) a send whose answer never came back --------------------------------------------------


def test_a_send_without_answer_leaves_entries_synchronizing_with_the_attempt_time(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"), sale("b"))
    firm.connector.fail_once("deposit_answer")

    with pytest.raises(Interrupted):
        firm.sync()
    attempt = firm.clock()

    rows = firm.table(sa.select(entries.c.entry_id, entries.c.status, entries.c.attempted_at))
    assert {(row.entry_id, row.status, row.attempted_at) for row in rows} == {
        ("a", "synchronizing", attempt),
        ("b", "synchronizing", attempt),
    }


def test_resending_after_a_lost_answer_is_safe_even_once_the_batch_was_injected(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"), sale("b"))
    firm.connector.fail_once("deposit_answer")
    with pytest.raises(Interrupted):
        firm.sync()
    firm.open_accounting()

    resent = firm.sync()
    firm.open_accounting()

    assert (resent.sent, resent.resent) == (0, 0)
    assert firm.waiting_batches() == []
    assert all(row.deposited_at is not None for row in firm.table(sa.select(outbox)))
    firm.assert_each_posted_once_and_synchronized(["a", "b"])


def test_every_interruption_in_a_row_still_posts_each_entry_once(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm.verified(*(purchase(f"p{n}") for n in range(5)), *(sale(f"s{n}") for n in range(5)))
    ids = sorted(firm.statuses())
    once(monkeypatch, sync_module, "move_all", having_worked=True)
    once(monkeypatch, firm.relay._openings, "_store_injection", having_worked=False)
    for step in ("deposit", "deposit_answer", "acknowledge"):
        firm.connector.fail_once(step)

    for _attempt in range(10):
        for action in (firm.sync, firm.open_accounting):
            with contextlib.suppress(Interrupted):
                action()
        if set(firm.statuses().values()) == {Status.SYNCHRONIZED}:
            break

    firm.platform.synchronizer.receive_results("ACME")
    firm.assert_each_posted_once_and_synchronized(ids)
    assert firm.relay.collect_results("ACME") == []


def test_a_batch_refused_for_good_fails_its_entries_with_the_reason_and_holds_up_no_sync(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"), sale("b"))
    firm.connector.refuse_once((0, "entries[0].journal: not a journal this ledger knows"))

    refused = firm.sync()

    assert (refused.sent, refused.refused) == (0, 2)
    assert "refused by the relay" in refused.summary()
    assert firm.statuses() == {"a": Status.SYNC_FAILED, "b": Status.SYNC_FAILED}
    assert firm.waiting_batches() == []
    reasons = {row.entry_id: row.message for row in firm.table(sa.select(entries))}
    refusals = firm.table(
        sa.select(rejections.c.entry_id, rejections.c.code).order_by(rejections.c.entry_id)
    )
    assert "entries[0].journal: not a journal this ledger knows" in reasons["a"]
    assert "refused whole because of other entries" in reasons["b"]
    assert [tuple(row) for row in refusals] == [("a", "deposit_refused"), ("b", "deposit_refused")]

    # Nothing waits to be deposited again: the next sync sends what is verified, and only it.
    firm.workspace.verify("ACME", ["b"])
    resent = firm.sync()
    assert (resent.sent, resent.resent, resent.refused) == (1, 0, 0)
    firm.open_accounting()
    assert firm.statuses() == {"a": Status.SYNC_FAILED, "b": Status.SYNCHRONIZED}


# -- the history of a round trip ------------------------------------------------------------


def test_each_entry_s_history_says_its_own_result_while_a_move_is_one_event(
    firm: Firm,
) -> None:
    firm.verified(purchase("a"), without_auxiliary("b"), purchase("c"))
    firm.sync()
    firm.open_accounting()

    numbers = firm.posted()
    history = {entry_id: firm.workspace.history("ACME", entry_id) for entry_id in "abc"}
    assert {
        entry_id: [line.to_status for line in lines] for entry_id, lines in history.items()
    } == {
        "a": [Status.TO_VERIFY, Status.VERIFIED, Status.SYNCHRONIZING, Status.SYNCHRONIZED],
        "b": [Status.TO_VERIFY, Status.VERIFIED, Status.SYNCHRONIZING, Status.SYNC_FAILED],
        "c": [Status.TO_VERIFY, Status.VERIFIED, Status.SYNCHRONIZING, Status.SYNCHRONIZED],
    }
    for entry_id in "ac":
        assert history[entry_id][-1].message == (
            f"posted as entry {numbers[entry_id]} of fiscal year 2026"
        )
    [failed] = [row for row in firm.workspace.list_entries("ACME") if row.id == "b"]
    assert failed.code == "collective_account"
    assert history["b"][-1].message == failed.message
    # The lines the three entries share are the same events: import, verify, sync, result.
    for index in range(3):
        assert history["a"][index] == history["b"][index] == history["c"][index]
    assert history["a"][-1].at == history["b"][-1].at
    assert [line.actor for line in history["a"]] == ["import", "accountant", "accountant", "ledger"]
    with firm.database.transaction(write=False) as connection:
        events = connection.execute(
            sa.select(history_events.c.to_status, history_events.c.message).order_by(
                history_events.c.id
            )
        ).all()
    assert [tuple(event) for event in events] == [
        ("to_verify", "imported"),
        ("verified", "marked verified"),
        ("synchronizing", history["a"][2].message),
        ("synchronized", None),  # each posted entry says its own number
        ("sync_failed", failed.message),  # the one failed entry's message is the event's
    ]
