"""One opening at a time injects a batch: the claim taken before posting, and when it lapses."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import Relay
from ledgerbridge.relay.service import INJECTION_LEASE
from ledgerbridge.relay.tables import batches
from ledgerbridge.relay.values import OpeningReport
from tests.integration.ledger_samples import purchase, sale, without_auxiliary
from tests.integration.relay_samples import (
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
def linked(database: Database, clock: FixedClock) -> Relay:
    relay = Relay(database, clock)
    relay.authenticate_administrator()
    relay.activate_connector("ACME", accept=True)
    return relay


class OpenedAgainWhilePosting(LedgerStandIn):
    """The real ledger; just as the first opening starts to post, the folder is opened
    a second time (by another accountant, another process)."""

    def __init__(self, ledger: Ledger, second_opening: Callable[[], OpeningReport]) -> None:
        super().__init__(ledger)
        self.second_opening = second_opening
        self.second: OpeningReport | None = None

    def post_batch(
        self,
        folder: str,
        entries: Iterable[Entry],
        *,
        key: Callable[[Entry], str],
        on_result: Callable[[CheckResult], None],
    ) -> object:
        self.second = self.second_opening()
        return super().post_batch(folder, entries, key=key, on_result=on_result)


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
