"""Synchronize and automatic sending (SPEC §3): one batch of every verified entry, refused
only for an unknown client or with the API off, never two syncs of a client at once; the
nightly pass at each client's local hour, once per local day."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.platform import Platform
from ledgerbridge.relay.values import OutgoingBatch
from ledgerbridge.workspace.errors import ApiDisabled, SyncAlreadyRunning, UnknownClient
from ledgerbridge.workspace.nightly import NightlyRuns, serve_scheduler
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.sync import SYNC_LEASE, Synchronizer
from ledgerbridge.workspace.tables import clients, outbox
from tests.integration.ledger_samples import acme_setup, purchase, sale
from tests.integration.workspace_samples import Doorway

WINTER = datetime(2026, 1, 15, 0, 0, tzinfo=UTC)  # Paris is UTC+1: 02:00 there is 01:00 UTC
SUMMER = datetime(2026, 7, 15, 0, 0, tzinfo=UTC)  # Paris is UTC+2: 02:00 there is 00:00 UTC
# Wait for a helper thread at most this long: only a broken lock would make it wait.
THREAD_WAIT_SECONDS = 30


class Firm:
    """Folders ACME and BETA in the ledger, a client for each in the workspace (manual, API
    on); the connectors and the administrator are left as the test wants them."""

    def __init__(self, database: Database, now: datetime = WINTER) -> None:
        self.clock = FixedClock(now)
        self.database = database
        platform = Platform.on(database, self.clock)
        self.ledger, self.relay = platform.ledger, platform.relay
        self.connector = Doorway(platform.connector)
        self.synchronizer = Synchronizer(database, self.connector, self.clock)
        self.nightly = NightlyRuns(database, self.synchronizer, self.clock)
        self.platform = Platform(
            database=database,
            clock=self.clock,
            ledger=self.ledger,
            relay=self.relay,
            connector=platform.connector,
            synchronizer=self.synchronizer,
            diagnostics=platform.diagnostics,
            nightly=self.nightly,
        )
        self.workspace = Workspace(database, self.connector, self.clock)
        for folder in ("ACME", "BETA"):
            self.ledger.apply_setup(acme_setup(folder=folder))
            self.workspace.connect_client(folder)

    def link(self, folder: str = "ACME") -> None:
        self.relay.authenticate_administrator()
        self.relay.activate_connector(folder, accept=True)

    def verified(self, folder: str, *ids: str) -> None:
        self.workspace.import_entries(folder, [purchase(entry_id) for entry_id in ids])
        self.workspace.verify(folder, ids)

    def statuses(self, folder: str = "ACME") -> dict[str, Status]:
        return {row.id: row.status for row in self.workspace.list_entries(folder)}

    def waiting(self, folder: str = "ACME") -> list[tuple[str, int]]:
        return [(batch.batch_id, batch.size) for batch in self.relay.waiting(folder)]

    def local(self, text: str) -> None:
        """Set the clock to a local time in Paris, given as `YYYY-MM-DD HH:MM`."""
        moment = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Paris"))
        self.clock.set(moment.astimezone(UTC))

    def nightly_client(self, folder: str = "ACME", at: str | None = None) -> None:
        self.workspace.set_client(folder, auto_send="nightly", send_at=at)


@pytest.fixture
def firm(database: Database) -> Firm:
    return Firm(database)


# -- Synchronize -------------------------------------------------------------------------------


def test_sync_deposits_every_verified_entry_of_the_client_as_one_batch(firm: Firm) -> None:
    firm.workspace.import_entries("ACME", [purchase("a"), sale("b"), purchase("c")])
    firm.workspace.verify("ACME", ["a", "b"])
    firm.verified("BETA", "other")

    report = firm.synchronizer.sync("ACME")

    assert (report.sent, report.resent) == (2, 0)
    assert firm.waiting() == [(report.batch_id, 2)]
    assert firm.statuses() == {
        "a": Status.SYNCHRONIZING,
        "b": Status.SYNCHRONIZING,
        "c": Status.TO_VERIFY,
    }
    assert firm.statuses("BETA") == {"other": Status.VERIFIED}
    sent = firm.workspace.history("ACME", "a")[-1]
    assert (sent.actor, sent.from_status, sent.to_status) == (
        "accountant",
        Status.VERIFIED,
        Status.SYNCHRONIZING,
    )
    assert report.batch_id is not None and report.batch_id in (sent.message or "")


def test_sync_deposits_whatever_the_state_of_the_connector_and_the_credential(
    firm: Firm,
) -> None:
    firm.verified("ACME", "a")

    report = firm.synchronizer.sync("ACME")

    assert report.sent == 1
    assert firm.waiting() == [(report.batch_id, 1)]


def test_sync_with_nothing_verified_says_nothing_to_send(firm: Firm) -> None:
    firm.workspace.import_entries("ACME", [purchase("a")])

    report = firm.synchronizer.sync("ACME")

    assert (report.sent, report.resent, report.batch_id) == (0, 0, None)
    assert "nothing to send" in report.summary()
    assert firm.waiting() == []
    with firm.database.transaction(write=False) as connection:
        assert connection.execute(sa.select(outbox)).all() == []


def test_sync_is_refused_with_the_api_off_and_sends_nothing(firm: Firm) -> None:
    firm.verified("ACME", "a")
    firm.workspace.set_client("ACME", api_enabled=False)

    with pytest.raises(ApiDisabled) as refused:
        firm.synchronizer.sync("ACME")

    assert refused.value.fix is not None and "client set ACME --api on" in refused.value.fix
    assert firm.statuses() == {"a": Status.VERIFIED}
    assert firm.waiting() == []


def test_sync_of_an_unknown_client_is_refused(firm: Firm) -> None:
    with pytest.raises(UnknownClient) as refused:
        firm.synchronizer.sync("NOPE")

    assert refused.value.fix is not None and "client connect NOPE" in refused.value.fix


def test_batches_already_in_the_relay_are_injected_whatever_the_api_setting(firm: Firm) -> None:
    firm.link()
    firm.verified("ACME", "a")
    firm.synchronizer.sync("ACME")
    firm.workspace.set_client("ACME", api_enabled=False)

    opening, results = firm.platform.open_accounting("ACME")

    assert (opening.posted, results.synchronized) == (1, 1)
    assert firm.statuses() == {"a": Status.SYNCHRONIZED}


# -- two syncs of one client never overlap ------------------------------------------------------


def test_a_second_sync_of_the_client_while_one_runs_is_refused(firm: Firm) -> None:
    firm.verified("ACME", "a")
    firm.verified("BETA", "b")
    during: list[BaseException] = []
    other_client: list[int] = []

    def second_sync(_batch: OutgoingBatch) -> None:
        try:
            firm.synchronizer.sync("ACME")
        except SyncAlreadyRunning as refused:
            during.append(refused)
        other_client.append(firm.synchronizer.sync("BETA").sent)

    firm.connector.during_deposit = second_sync
    first = firm.synchronizer.sync("ACME")

    assert first.sent == 1
    assert [type(refusal) for refusal in during] == [SyncAlreadyRunning]
    assert other_client == [1]  # another client's sync is not held up
    firm.verified("ACME", "c")
    assert firm.synchronizer.sync("ACME").sent == 1  # the lease was freed at the end


def test_a_sync_that_fails_frees_the_client_for_the_next(firm: Firm) -> None:
    firm.verified("ACME", "a")
    firm.connector.unreachable.add("ACME")
    with pytest.raises(ConnectionError):
        firm.synchronizer.sync("ACME")
    firm.connector.unreachable.clear()

    assert firm.synchronizer.sync("ACME").resent == 1


def hold_lease(firm: Firm, holder: str | None) -> None:
    """The client's lease as a sync that died while holding it left it."""
    with firm.database.transaction() as connection:
        connection.execute(
            clients.update()
            .where(clients.c.folder == "ACME")
            .values(sync_lease_until=firm.clock() + SYNC_LEASE, sync_lease_holder=holder)
        )


def ended_process_name() -> str:
    """A lease holder's name for a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:0123456789ab"


def test_a_lease_left_by_a_sync_that_died_on_another_host_holds_the_client_until_it_expires(
    firm: Firm,
) -> None:
    firm.verified("ACME", "a")
    hold_lease(firm, "db-2.example:4242:0123456789ab")

    with pytest.raises(SyncAlreadyRunning) as refused:
        firm.synchronizer.sync("ACME")
    assert "process 4242 on host db-2.example" in refused.value.message
    # WINTER + 30 minutes, in Paris (UTC+1)
    assert refused.value.fix is not None and "until 2026-01-15 01:30 CET" in refused.value.fix
    firm.clock.advance(SYNC_LEASE - timedelta(minutes=1))
    with pytest.raises(SyncAlreadyRunning):
        firm.synchronizer.sync("ACME")
    firm.clock.advance(timedelta(minutes=2))

    assert firm.synchronizer.sync("ACME").sent == 1


def test_a_lease_of_a_process_still_running_on_this_host_is_not_taken_over(firm: Firm) -> None:
    firm.verified("ACME", "a")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as running:
        try:
            hold_lease(firm, f"{socket.gethostname()}:{running.pid}:0123456789ab")
            with pytest.raises(SyncAlreadyRunning) as refused:
                firm.synchronizer.sync("ACME")
        finally:
            running.kill()
    assert f"process {running.pid} on host" in refused.value.message


def test_a_lease_left_by_a_sync_that_died_on_this_host_is_taken_over_at_once(
    firm: Firm,
) -> None:
    firm.verified("ACME", "a")
    firm.connector.unreachable.add("ACME")
    with pytest.raises(ConnectionError):  # its deposit never confirmed...
        firm.synchronizer.sync("ACME")
    firm.connector.unreachable.clear()
    hold_lease(firm, ended_process_name())  # ...and its process gone, the lease held
    firm.verified("ACME", "b")

    report = firm.synchronizer.sync("ACME")

    assert (report.resent, report.sent) == (1, 1)
    assert firm.statuses() == {"a": Status.SYNCHRONIZING, "b": Status.SYNCHRONIZING}
    with firm.database.transaction(write=False) as connection:
        lease = connection.execute(
            sa.select(clients.c.sync_lease_until, clients.c.sync_lease_holder).where(
                clients.c.folder == "ACME"
            )
        ).one()
    assert tuple(lease) == (None, None)  # freed at the end, as any sync's


def test_a_lease_left_before_holders_were_named_holds_the_client_until_it_expires(
    firm: Firm,
) -> None:
    firm.verified("ACME", "a")
    hold_lease(firm, None)

    with pytest.raises(SyncAlreadyRunning):
        firm.synchronizer.sync("ACME")
    firm.clock.advance(SYNC_LEASE + timedelta(minutes=1))

    assert firm.synchronizer.sync("ACME").sent == 1


def test_a_sync_outliving_its_lease_does_not_free_the_lease_of_the_sync_that_took_over(
    firm: Firm,
) -> None:
    firm.verified("ACME", "a")
    in_deposit = {"first": threading.Event(), "second": threading.Event()}
    go_on = {"first": threading.Event(), "second": threading.Event()}
    failures: list[BaseException] = []

    def hold(name: str) -> Callable[[OutgoingBatch], None]:
        def wait_in_deposit(_batch: OutgoingBatch) -> None:
            in_deposit[name].set()
            assert go_on[name].wait(THREAD_WAIT_SECONDS)

        return wait_in_deposit

    def run(name: str) -> threading.Thread:
        def sync() -> None:
            try:
                firm.synchronizer.sync("ACME")
            except BaseException as error:
                failures.append(error)

        firm.connector.during_deposit = hold(name)
        thread = threading.Thread(target=sync)
        thread.start()
        assert in_deposit[name].wait(THREAD_WAIT_SECONDS)
        return thread

    first = run("first")
    firm.clock.advance(SYNC_LEASE + timedelta(minutes=1))  # the first sync is taken for dead
    firm.verified("ACME", "b")
    second = run("second")
    go_on["first"].set()
    first.join(THREAD_WAIT_SECONDS)

    with pytest.raises(SyncAlreadyRunning):
        firm.synchronizer.sync("ACME")

    go_on["second"].set()
    second.join(THREAD_WAIT_SECONDS)
    assert failures == []
    assert len(firm.waiting()) == 2


# -- nightly and manual clients -----------------------------------------------------------------


def test_the_nightly_verb_sends_the_nightly_clients_only(firm: Firm) -> None:
    firm.nightly_client("ACME")
    firm.verified("ACME", "a")
    firm.verified("BETA", "b")

    outcomes = firm.nightly.run_now()

    assert [(outcome.folder, outcome.report and outcome.report.sent) for outcome in outcomes] == [
        ("ACME", 1)
    ]
    assert firm.statuses("ACME") == {"a": Status.SYNCHRONIZING}
    assert firm.statuses("BETA") == {"b": Status.VERIFIED}
    assert [line.actor for line in firm.workspace.history("ACME", "a")][-1] == "nightly"


def test_a_new_client_is_manual_at_two_in_the_morning_paris_time(firm: Firm) -> None:
    settings = firm.workspace.client("ACME")

    assert (settings.auto_send, settings.send_at, settings.timezone, settings.api_enabled) == (
        "manual",
        "02:00",
        "Europe/Paris",
        True,
    )


def test_a_nightly_client_is_sent_at_two_paris_time_in_winter_not_before(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")

    firm.local("2026-01-15 01:59")
    assert firm.nightly.run_due() == []
    firm.local("2026-01-15 02:00")
    [outcome] = firm.nightly.run_due()

    assert firm.clock() == datetime(2026, 1, 15, 1, 0, tzinfo=UTC)
    assert outcome.report is not None and outcome.report.sent == 1
    assert firm.statuses() == {"a": Status.SYNCHRONIZING}


def test_a_nightly_client_is_sent_at_two_paris_time_in_summer_not_before(
    database: Database,
) -> None:
    firm = Firm(database, SUMMER)
    firm.nightly_client()
    firm.verified("ACME", "a")

    firm.clock.set(datetime(2026, 7, 14, 23, 59, tzinfo=UTC))  # 01:59 in Paris
    assert firm.nightly.run_due() == []
    firm.clock.set(datetime(2026, 7, 15, 0, 0, tzinfo=UTC))  # 02:00 in Paris
    [outcome] = firm.nightly.run_due()

    assert outcome.report is not None and outcome.report.sent == 1


def test_a_client_in_another_time_zone_is_sent_at_its_own_local_hour(firm: Firm) -> None:
    settings = firm.workspace.set_client(
        "ACME", auto_send="nightly", send_at="02:00", timezone="America/Martinique"
    )
    firm.verified("ACME", "a")
    assert settings.timezone == "America/Martinique"

    firm.clock.set(datetime(2026, 1, 15, 5, 59, tzinfo=UTC))  # 01:59 in Martinique (UTC-4)
    assert firm.nightly.run_due() == []
    firm.clock.set(datetime(2026, 1, 15, 6, 0, tzinfo=UTC))  # 02:00 there
    [outcome] = firm.nightly.run_due()

    assert outcome.report is not None and outcome.report.sent == 1
    assert firm.workspace.client("ACME").timezone == "America/Martinique"


def test_an_unknown_time_zone_is_refused_and_the_settings_kept(firm: Firm) -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        firm.workspace.set_client("ACME", timezone="Mars/Olympus", auto_send="nightly")

    settings = firm.workspace.client("ACME")
    assert (settings.timezone, settings.auto_send) == ("Europe/Paris", "manual")


def test_a_nightly_client_is_sent_once_per_local_day(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")
    firm.local("2026-01-15 02:00")
    firm.nightly.run_due()
    firm.verified("ACME", "b")

    firm.local("2026-01-15 02:30")
    assert firm.nightly.run_due() == []
    firm.local("2026-01-15 23:59")
    assert firm.nightly.run_due() == []
    assert firm.statuses()["b"] is Status.VERIFIED
    firm.local("2026-01-16 02:00")
    [outcome] = firm.nightly.run_due()

    assert outcome.report is not None and outcome.report.sent == 1
    assert firm.statuses()["b"] is Status.SYNCHRONIZING


def test_the_day_of_a_nightly_pass_is_the_clients_local_day_not_the_utc_one(
    database: Database,
) -> None:
    firm = Firm(database, SUMMER)
    firm.nightly_client(at="01:00")
    firm.verified("ACME", "a")
    firm.local("2026-07-15 01:00")  # still 14 July in UTC
    firm.nightly.run_due()
    firm.verified("ACME", "b")

    firm.local("2026-07-15 23:30")  # 15 July in UTC: another UTC day, the same local one
    assert firm.nightly.run_due() == []
    firm.local("2026-07-16 01:00")

    assert [outcome.folder for outcome in firm.nightly.run_due()] == ["ACME"]


def test_a_scheduler_down_at_the_hour_catches_up_later_the_same_day(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")

    firm.local("2026-01-15 15:00")
    [outcome] = firm.nightly.run_due()
    firm.local("2026-01-15 15:01")

    assert outcome.report is not None and outcome.report.sent == 1
    assert firm.nightly.run_due() == []


def test_each_nightly_client_is_sent_at_its_own_hour(firm: Firm) -> None:
    firm.nightly_client("ACME")
    firm.nightly_client("BETA", at="6:30")
    firm.verified("ACME", "a")
    firm.verified("BETA", "b")

    firm.local("2026-01-15 02:00")
    assert [outcome.folder for outcome in firm.nightly.run_due()] == ["ACME"]
    firm.local("2026-01-15 06:29")
    assert firm.nightly.run_due() == []
    firm.local("2026-01-15 06:30")
    assert [outcome.folder for outcome in firm.nightly.run_due()] == ["BETA"]


def test_a_manual_client_is_never_sent_by_the_scheduler(firm: Firm) -> None:
    firm.verified("ACME", "a")

    firm.local("2026-01-15 02:00")

    assert firm.nightly.run_due() == []
    assert firm.statuses() == {"a": Status.VERIFIED}


def test_the_nightly_verb_does_not_stand_in_for_the_scheduled_pass(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")
    firm.local("2026-01-15 01:00")
    firm.nightly.run_now()
    firm.verified("ACME", "b")

    firm.local("2026-01-15 02:00")
    [outcome] = firm.nightly.run_due()

    assert outcome.report is not None and outcome.report.sent == 1
    assert set(firm.statuses().values()) == {Status.SYNCHRONIZING}


def test_a_nightly_pass_refused_by_the_api_setting_is_reported_and_the_others_go_on(
    firm: Firm,
) -> None:
    firm.nightly_client("ACME")
    firm.nightly_client("BETA")
    firm.workspace.set_client("ACME", api_enabled=False)
    firm.verified("ACME", "a")
    firm.verified("BETA", "b")
    firm.local("2026-01-15 02:00")

    refused, sent = firm.nightly.run_due()

    assert refused.folder == "ACME" and refused.report is None
    assert refused.refused is not None and "API setting is off" in refused.refused
    assert sent.report is not None and sent.report.sent == 1
    firm.local("2026-01-15 02:01")
    assert firm.nightly.run_due() == []


def test_a_nightly_pass_that_meets_a_running_sync_is_tried_again_the_same_day(
    firm: Firm,
) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")
    firm.local("2026-01-15 02:00")
    during: list[Any] = []
    firm.connector.during_deposit = lambda _batch: during.extend(firm.nightly.run_due())

    firm.synchronizer.sync("ACME")  # the accountant's, running at the hour
    firm.verified("ACME", "b")
    firm.local("2026-01-15 02:01")
    [retried] = firm.nightly.run_due()

    assert [outcome.refused for outcome in during] == [
        "A synchronization of client ACME is already running"
        f" (process {os.getpid()} on host {socket.gethostname()})."
    ]
    assert retried.report is not None and retried.report.sent == 1


def test_a_nightly_pass_that_fails_does_not_stop_the_others_and_is_tried_again(
    firm: Firm,
) -> None:
    firm.nightly_client("ACME")
    firm.nightly_client("BETA")
    firm.verified("ACME", "a")
    firm.verified("BETA", "b")
    firm.connector.unreachable.add("ACME")
    firm.local("2026-01-15 02:00")

    failed, sent = firm.nightly.run_due()

    assert failed.report is None and failed.refused is not None
    assert "cannot be reached" in failed.refused
    assert sent.report is not None and sent.report.sent == 1
    firm.connector.unreachable.clear()
    firm.local("2026-01-15 02:01")
    [retried] = firm.nightly.run_due()
    assert (retried.folder, retried.report and retried.report.resent) == ("ACME", 1)


# -- the scheduler ------------------------------------------------------------------------------


class StopAfter(NightlyRuns):
    """Nightly runs that stop the scheduler after `passes` looks at the clock; the first
    `failing` looks fail."""

    def __init__(self, firm: Firm, stop: threading.Event, passes: int, failing: int = 0) -> None:
        super().__init__(firm.database, firm.synchronizer, firm.clock)
        self._stop, self._passes, self._failing = stop, passes, failing
        self.looks = 0

    def run_due(self) -> list[Any]:
        self.looks += 1
        if self.looks >= self._passes:
            self._stop.set()
        if self.looks <= self._failing:
            raise RuntimeError("a bad pass")
        return super().run_due()


def test_the_scheduler_runs_the_due_passes_until_stopped(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")
    firm.local("2026-01-15 02:00")
    stop = threading.Event()
    runs = StopAfter(firm, stop, passes=2)

    serve_scheduler(runs, stop, every_seconds=0)

    assert runs.looks == 2
    assert firm.statuses() == {"a": Status.SYNCHRONIZING}
    assert len(firm.waiting()) == 1  # the second look found the day's pass done


def test_the_scheduler_tells_each_pass_with_the_clients_local_time(firm: Firm) -> None:
    firm.nightly_client("ACME")
    firm.workspace.set_client("BETA", auto_send="nightly", timezone="America/Martinique")
    firm.workspace.set_client("BETA", api_enabled=False)
    firm.verified("ACME", "a")
    firm.clock.set(datetime(2026, 1, 15, 6, 0, tzinfo=UTC))  # 07:00 in Paris, 02:00 there
    stop = threading.Event()
    told: list[str] = []

    serve_scheduler(
        StopAfter(firm, stop, passes=2),
        stop,
        every_seconds=0,
        on_pass=lambda run: told.append(run.line()),
    )

    sent, refused = told
    assert sent == (
        "2026-01-15 07:00 CET  Client ACME: 1 entry sent to the relay; sent entries stay"
        " synchronizing until the ledger opens the folder's accounting."
    )
    assert refused == (
        "2026-01-15 02:00 AST  Client BETA: not sent: Client BETA cannot synchronize: its API"
        " setting is off. To fix: Enable it: `ledgerbridge client set BETA --api on`, then"
        " synchronize again."
    )


def test_a_failing_pass_does_not_stop_the_scheduler(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")
    firm.local("2026-01-15 02:00")
    stop = threading.Event()
    runs = StopAfter(firm, stop, passes=2, failing=1)

    serve_scheduler(runs, stop, every_seconds=0)

    assert runs.looks == 2
    assert firm.statuses() == {"a": Status.SYNCHRONIZING}


def test_a_stopped_scheduler_runs_no_pass(firm: Firm) -> None:
    firm.nightly_client()
    firm.verified("ACME", "a")
    firm.local("2026-01-15 02:00")
    stop = threading.Event()
    stop.set()

    serve_scheduler(firm.nightly, stop, every_seconds=0)

    assert firm.statuses() == {"a": Status.VERIFIED}
