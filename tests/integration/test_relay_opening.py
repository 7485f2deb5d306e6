"""Opening a folder's accounting: what the credential and the connector let through, and
injection of the waiting batches, exactly once, with the ledger's answers kept for the workspace,
one opening at a time."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.refusals import NotFound
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import CERTIFICATE_EXPIRED_MESSAGE, CertificateExpired, Relay
from ledgerbridge.relay import opening as relay_opening
from ledgerbridge.relay.opening import INJECTION_LEASE
from ledgerbridge.relay.tables import batches
from ledgerbridge.relay.values import OpeningReport
from tests.integration.ledger_samples import purchase, sale, without_auxiliary
from tests.integration.relay_samples import (
    LAST_YEAR,
    NOW,
    CrashAfterPosting,
    LedgerStandIn,
    SimulatedCrash,
    entries_batch,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def relay(database: Database, clock: FixedClock) -> Relay:
    return Relay(database, clock)


@pytest.fixture
def linked(relay: Relay) -> Relay:
    """The relay with ACME's connector active and the administrator authenticated."""
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    return relay


def posted_numbers(ledger: Ledger) -> list[tuple[str, str, int]]:
    return [(entry.id, entry.fiscal_year, entry.number) for entry in ledger.posted_entries("ACME")]


def test_opening_injects_the_waiting_batch_and_keeps_each_answer_for_the_workspace(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a"), without_auxiliary("b"), sale("c")))

    report = linked.open_folder("ACME", acme)

    assert (report.injected_batches, report.posted, report.replayed, report.rejected) == (
        1,
        2,
        0,
        1,
    )
    assert linked.waiting("ACME") == []
    assert posted_numbers(acme) == [("a", "2026", 1), ("c", "2026", 2)]
    results = linked.collect_results("ACME")
    assert [(r.key, r.batch_id, r.expected, r.item) for r in results] == [
        ("ACME/a/1", "b-1", False, None),
        ("ACME/b/1", "b-1", False, None),
        ("ACME/c/1", "b-1", False, None),
    ]
    assert results[0].result == {
        "id": "a",
        "status": "accepted",
        "code": None,
        "message": None,
        "findings": [],
        "entry_number": 1,
        "fiscal_year": "2026",
        "replay": False,
    }
    assert results[1].result["code"] == "collective_account"
    assert results[1].result["message"] == "Account (401000) or other is collective"
    assert "entry_number" not in results[1].result


def test_batches_are_injected_in_deposit_order(linked: Relay, acme: Ledger) -> None:
    linked.deposit(entries_batch("later-name-first", purchase("first")))
    linked.deposit(entries_batch("a-name-second", purchase("second")))

    report = linked.open_folder("ACME", acme)

    assert report.injected_batches == 2
    assert posted_numbers(acme) == [("first", "2026", 1), ("second", "2026", 2)]


def test_a_large_batch_is_read_in_ranges_and_answered_in_order(
    database: Database, clock: FixedClock, acme: Ledger
) -> None:
    relay = Relay(database, clock, chunk_size=2)
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    ids = [f"e{n}" for n in range(7)]
    relay.deposit(entries_batch("b-1", *(purchase(entry_id) for entry_id in ids)))

    report = relay.open_folder("ACME", acme)

    assert report.posted == 7
    results = relay.collect_results("ACME")
    assert [r.result["id"] for r in results] == ids
    assert [r.result["entry_number"] for r in results] == list(range(1, 8))


def test_the_opening_tells_how_many_items_of_the_waiting_ones_it_handed_over(
    linked: Relay, acme: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay_opening, "_PROGRESS_EVERY", 2)
    linked.deposit(entries_batch("b-1", purchase("a"), purchase("b"), purchase("c")))
    linked.deposit(entries_batch("b-2", sale("d"), without_auxiliary("e")))
    told: list[tuple[int, int]] = []

    report = linked.open_folder(
        "ACME", acme, progress=lambda done, total: told.append((done, total))
    )

    assert report.injected_batches == 2
    assert told == [(2, 5), (3, 5), (4, 5), (5, 5)]


def test_a_second_opening_finds_nothing_to_inject(linked: Relay, acme: Ledger) -> None:
    linked.deposit(entries_batch("b-1", purchase("a")))
    linked.open_folder("ACME", acme)

    again = linked.open_folder("ACME", acme)

    assert (again.injected_batches, again.posted, again.waiting_batches) == (0, 0, 0)
    assert len(linked.collect_results("ACME")) == 1
    assert posted_numbers(acme) == [("a", "2026", 1)]


def test_a_batch_injected_again_after_a_crash_posts_once_and_answers_the_same_numbers(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a"), sale("b"), without_auxiliary("c")))

    with pytest.raises(SimulatedCrash):
        linked.open_folder("ACME", CrashAfterPosting(acme))

    # Posted in the ledger, but the relay stored nothing: the batch still waits.
    assert posted_numbers(acme) == [("a", "2026", 1), ("b", "2026", 2)]
    assert [batch.batch_id for batch in linked.waiting("ACME")] == ["b-1"]
    assert linked.collect_results("ACME") == []

    report = linked.open_folder("ACME", acme)

    assert (report.posted, report.replayed, report.rejected) == (0, 2, 1)
    assert posted_numbers(acme) == [("a", "2026", 1), ("b", "2026", 2)]
    answers = {r.result["id"]: r.result for r in linked.collect_results("ACME")}
    assert len(answers) == 3
    assert (answers["a"]["entry_number"], answers["a"]["replay"]) == (1, True)
    assert (answers["b"]["entry_number"], answers["b"]["replay"]) == (2, True)
    assert answers["c"]["status"] == "rejected"
    assert linked.waiting("ACME") == []


def test_an_expired_certificate_refuses_the_opening_with_the_ledgers_message(
    relay: Relay, acme: Ledger
) -> None:
    relay.activate_connector("ACME", accept=True)
    relay.authenticate_administrator(LAST_YEAR)
    relay.deposit(entries_batch("b-1", purchase("a")))

    with pytest.raises(CertificateExpired) as refused:
        relay.open_folder("ACME", acme)

    assert refused.value.message == (
        "For security reasons, the GE Connector security certificate has expired."
        " It is necessary for the reference administrator to identify again."
    )
    assert refused.value.message == CERTIFICATE_EXPIRED_MESSAGE
    assert refused.value.fix is not None and "ledgerbridge ledger admin-auth" in refused.value.fix
    assert posted_numbers(acme) == []
    [waiting] = relay.waiting("ACME")
    assert waiting.last_wait_reason is not None and "expired" in waiting.last_wait_reason
    assert waiting.last_attempt_at == NOW


def test_a_never_authenticated_administrator_refuses_the_opening_too(
    relay: Relay, acme: Ledger
) -> None:
    relay.activate_connector("ACME", accept=True)
    relay.deposit(entries_batch("b-1", purchase("a")))

    with pytest.raises(CertificateExpired) as refused:
        relay.open_folder("ACME", acme)

    assert refused.value.message == CERTIFICATE_EXPIRED_MESSAGE
    assert refused.value.fix == (
        "The reference administrator has never authenticated. Authenticate the reference"
        " administrator with `ledgerbridge ledger admin-auth` (Processes > GE Connector >"
        " Reference Administrator > Authenticate Reference Administrator Account), then try"
        " again."
    )
    assert posted_numbers(acme) == []
    assert len(relay.waiting("ACME")) == 1


def test_the_certificate_is_checked_before_the_connector(relay: Relay, acme: Ledger) -> None:
    relay.deposit(entries_batch("b-1", purchase("a")))

    with pytest.raises(CertificateExpired):
        relay.open_folder("ACME", acme)


def test_the_default_certificate_expires_a_year_later(
    relay: Relay, clock: FixedClock, acme: Ledger
) -> None:
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    clock.advance(timedelta(days=366))
    relay.deposit(entries_batch("b-1", purchase("a")))

    with pytest.raises(CertificateExpired):
        relay.open_folder("ACME", acme)


def test_with_the_connector_inactive_the_opening_succeeds_and_says_why_batches_wait(
    relay: Relay, acme: Ledger
) -> None:
    relay.authenticate_administrator()
    relay.deposit(entries_batch("b-1", purchase("a")))
    relay.deposit(entries_batch("b-2", sale("b")))

    report = relay.open_folder("ACME", acme)

    assert (report.injected_batches, report.waiting_batches) == (0, 2)
    assert report.wait_reason == "the marketplace connector of the folder has never been activated"
    assert report.lines() == [
        "Folder ACME opened; 2 batches wait in the relay, not injected: the marketplace"
        " connector of the folder has never been activated."
    ]
    assert [batch.last_wait_reason for batch in relay.waiting("ACME")] == [report.wait_reason] * 2
    assert posted_numbers(acme) == []

    relay.activate_connector("ACME", accept=True)
    injected = relay.open_folder("ACME", acme)

    assert (injected.injected_batches, injected.posted) == (2, 2)
    assert relay.waiting("ACME") == []


def test_deactivating_and_reactivating_the_connector_keeps_waiting_batches(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a")))

    linked.deactivate_connector("ACME")
    report = linked.open_folder("ACME", acme)
    assert report.wait_reason == "the marketplace connector of the folder is deactivated"
    linked.activate_connector("ACME", accept=True)

    assert [batch.batch_id for batch in linked.waiting("ACME")] == ["b-1"]
    assert linked.open_folder("ACME", acme).posted == 1


def test_opening_a_folder_the_ledger_has_not_is_refused(linked: Relay, acme: Ledger) -> None:
    with pytest.raises(NotFound, match=r"Unknown ledger folder 'NOPE'.*its folders are ACME"):
        linked.open_folder("NOPE", acme)


def test_collected_results_stay_until_acknowledged_and_acknowledging_twice_is_harmless(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a")))
    linked.deposit(entries_batch("b-2", sale("b")))
    linked.open_folder("ACME", acme)
    first, second = linked.collect_results("ACME")

    assert linked.acknowledge([first.result_id], folder="ACME") == 1
    assert [r.result_id for r in linked.collect_results("ACME")] == [second.result_id]
    assert linked.acknowledge([first.result_id, second.result_id]) == 1
    assert linked.acknowledge([first.result_id, second.result_id]) == 0
    assert linked.collect_results("ACME") == []


def test_results_of_one_folder_are_not_acknowledged_through_another(
    linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a")))
    linked.open_folder("ACME", acme)
    [result] = linked.collect_results("ACME")

    assert linked.acknowledge([result.result_id], folder="OTHER") == 0
    assert linked.collect_results("ACME") == [result]


# -- one opening at a time injects a batch: the claim taken before posting, and when it lapses


class OpenedAgainWhilePosting(LedgerStandIn):
    """The real ledger; just as the first opening starts to post, the folder is opened
    a second time (by another accountant, another process)."""

    def __init__(self, ledger: Ledger, second_opening: Callable[[], OpeningReport]) -> None:
        super().__init__(ledger)
        self.second_opening = second_opening
        self.second: OpeningReport | None = None

    def before_posting(self) -> None:
        self.second = self.second_opening()


def claim_of(database: Database) -> tuple[str | None, object]:
    with database.transaction(write=False) as connection:
        row = connection.execute(sa.select(batches.c.claimed_by, batches.c.claimed_until)).one()
    return row.claimed_by, row.claimed_until


def hold_claim(database: Database, claimed_by: str, until: object) -> None:
    with database.transaction() as connection:
        connection.execute(batches.update().values(claimed_by=claimed_by, claimed_until=until))


def test_a_second_opening_leaves_a_batch_being_injected_to_the_first(
    database: Database, clock: FixedClock, linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a"), without_auxiliary("b"), sale("c")))
    other = Relay(database, clock)
    ledger = OpenedAgainWhilePosting(acme, lambda: other.open_folder("ACME", acme))

    first = linked.open_folder("ACME", ledger)

    assert ledger.second is not None
    assert (ledger.second.injected_batches, ledger.second.busy_batches) == (0, 1)
    assert "being injected by another opening" in " ".join(ledger.second.lines())
    assert (first.injected_batches, first.posted, first.rejected, first.busy_batches) == (
        1,
        2,
        1,
        0,
    )
    assert sorted(entry.id for entry in acme.posted_entries("ACME")) == ["a", "c"]
    answers = {result.key: result.result["status"] for result in linked.collect_results("ACME")}
    assert answers == {"ACME/a/1": "accepted", "ACME/b/1": "rejected", "ACME/c/1": "accepted"}
    assert claim_of(database) == (None, None)


def test_a_claim_from_another_host_holds_until_its_lease_ends(
    database: Database, clock: FixedClock, linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a")))
    hold_claim(database, "elsewhere:4242:0123456789ab", NOW + INJECTION_LEASE)

    held = linked.open_folder("ACME", acme)

    assert (held.injected_batches, held.busy_batches, held.posted) == (0, 1, 0)
    assert list(acme.posted_entries("ACME")) == []
    assert len(linked.waiting("ACME")) == 1

    clock.advance(INJECTION_LEASE + timedelta(seconds=1))
    lapsed = linked.open_folder("ACME", acme)

    assert (lapsed.injected_batches, lapsed.busy_batches, lapsed.posted) == (1, 0, 1)


def test_a_claim_whose_process_is_gone_lapses_at_once(
    database: Database, linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a")))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    hold_claim(database, f"{socket.gethostname()}:{gone.pid}:0123456789ab", NOW + INJECTION_LEASE)

    report = linked.open_folder("ACME", acme)

    assert (report.injected_batches, report.posted) == (1, 1)


def test_an_opening_that_fails_gives_its_claim_back(
    database: Database, linked: Relay, acme: Ledger
) -> None:
    linked.deposit(entries_batch("b-1", purchase("a"), sale("c")))

    with pytest.raises(SimulatedCrash):
        linked.open_folder("ACME", CrashAfterPosting(acme))

    assert claim_of(database) == (None, None)
    report = linked.open_folder("ACME", acme)
    assert (report.injected_batches, report.replayed) == (1, 2)
