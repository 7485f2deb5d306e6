"""Automatic sending: one nightly pass now, and the scheduler that runs each client's at its hour."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock, local_time
from ledgerbridge.domain.refusals import Refusal
from ledgerbridge.logs import log
from ledgerbridge.workspace.errors import SyncAlreadyRunning
from ledgerbridge.workspace.sync import Synchronizer, SyncReport
from ledgerbridge.workspace.tables import clients


@dataclass(frozen=True, slots=True)
class NightlyOutcome:
    folder: str
    report: SyncReport | None = None
    # Why this client's pass did not run (API off, a sync running, the relay unreachable).
    refused: str | None = None
    fix: str | None = None  # what to do about it, when the refusal says
    at: datetime | None = None  # when the pass ran
    timezone: str | None = None  # the client's, in which `at` is told

    def summary(self) -> str:
        """What the pass did, or why it did not send, as the accountant reads it."""
        if self.report is not None:
            return self.report.summary()
        fix = f" To fix: {self.fix}" if self.fix else ""
        return f"Client {self.folder}: not sent: {self.refused}{fix}"

    def line(self) -> str:
        """The summary after the client's local time of the pass, as the scheduler says it."""
        if self.at is None or self.timezone is None:
            return self.summary()
        return f"{local_time(self.at, self.timezone)}  {self.summary()}"

    def as_dict(self) -> dict[str, object]:
        return {
            "folder": self.folder,
            "sent": self.report.sent if self.report else 0,
            "resent": self.report.resent if self.report else 0,
            "batch_id": self.report.batch_id if self.report else None,
            "refused": self.refused,
            "fix": self.fix,
        }


def _local(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


class NightlyRuns:
    """Nightly sends: `run_now` for every nightly client; `run_due` for those whose hour came."""

    def __init__(self, database: Database, synchronizer: Synchronizer, clock: Clock) -> None:
        self._database = database
        self._synchronizer = synchronizer
        self._clock = clock

    def _nightly_clients(self) -> list[sa.Row[tuple[str, str, str, date | None]]]:
        with self._database.transaction(write=False) as connection:
            return list(
                connection.execute(
                    sa.select(
                        clients.c.folder,
                        clients.c.send_at,
                        clients.c.timezone,
                        clients.c.last_nightly_on,
                    )
                    .where(clients.c.auto_send == "nightly")
                    .order_by(clients.c.folder)
                )
            )

    def _run(self, folder: str, timezone: str) -> tuple[NightlyOutcome, bool]:
        """One client's pass, and whether it is done for the day.

        A refusal that will still hold in a minute (API off) ends the day's pass; a sync
        of the client already running, or a failure (the relay unreachable), leaves it to
        the next look at the clock. Either way the other clients' passes go on.
        """
        done = True
        at = self._clock()
        try:
            report = self._synchronizer.sync(folder, actor="nightly")
        except SyncAlreadyRunning as running:
            outcome = NightlyOutcome(folder, refused=running.message, at=at, timezone=timezone)
            done = False
        except Refusal as refusal:
            outcome = NightlyOutcome(
                folder, refused=refusal.message, fix=refusal.fix, at=at, timezone=timezone
            )
        except Exception as error:
            log.exception("nightly_pass_failed", folder=folder)
            outcome = NightlyOutcome(
                folder, refused=f"the sync failed: {error}", at=at, timezone=timezone
            )
            done = False
        else:
            outcome = NightlyOutcome(folder, report=report, at=at, timezone=timezone)
        log.info("nightly_pass", **outcome.as_dict())
        return outcome, done

    def run_now(self) -> list[NightlyOutcome]:
        """One nightly pass now for every client set to nightly, whatever the time.

        It does not stand in for the scheduled pass: entries verified between now and the
        client's hour still go that night.
        """
        return [self._run(row.folder, row.timezone)[0] for row in self._nightly_clients()]

    def run_due(self) -> list[NightlyOutcome]:
        """The passes whose local hour has come today and that have not run today.

        A scheduler that was down at the hour catches up when it comes back the same day.
        """
        now = self._clock()
        outcomes = []
        for row in self._nightly_clients():
            local = _local(now, row.timezone)
            hour, minute = (int(part) for part in row.send_at.split(":"))
            if local.time() >= time(hour, minute) and row.last_nightly_on != local.date():
                outcome, done = self._run(row.folder, row.timezone)
                if done:
                    self._mark_done(row.folder, local.date())
                outcomes.append(outcome)
        return outcomes

    def _mark_done(self, folder: str, local_day: date) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                clients.update().where(clients.c.folder == folder).values(last_nightly_on=local_day)
            )


def serve_scheduler(
    runs: NightlyRuns,
    stop: threading.Event,
    *,
    every_seconds: float = 30.0,
    on_pass: Callable[[NightlyOutcome], None] | None = None,
) -> None:
    """Stay up and run each nightly client's pass at its local time, until `stop` is set;
    `on_pass` hears each client's pass once it ran (the terminal of `ledgerbridge scheduler`)."""
    log.info("scheduler_started")
    while not stop.is_set():
        try:
            for outcome in runs.run_due():
                if on_pass is not None:
                    on_pass(outcome)
        except Exception:  # one bad pass must not stop the nights to come
            log.exception("scheduler_pass_failed")
        stop.wait(every_seconds)
    log.info("scheduler_stopped")
