"""Automatic sending: one nightly pass now, and the scheduler that runs each client's at its hour."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock
from ledgerbridge.domain.refusals import Refusal
from ledgerbridge.logs import log
from ledgerbridge.workspace.sync import Synchronizer, SyncReport
from ledgerbridge.workspace.tables import clients


@dataclass(frozen=True, slots=True)
class NightlyOutcome:
    folder: str
    report: SyncReport | None = None
    refused: str | None = None  # why this client's pass did not run (API off, a sync running)

    def as_dict(self) -> dict[str, object]:
        return {
            "folder": self.folder,
            "sent": self.report.sent if self.report else 0,
            "resent": self.report.resent if self.report else 0,
            "batch_id": self.report.batch_id if self.report else None,
            "refused": self.refused,
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

    def _run(self, folder: str, local_day: date) -> NightlyOutcome:
        try:
            report = self._synchronizer.sync(folder, actor="nightly")
        except Refusal as refusal:
            outcome = NightlyOutcome(folder, refused=refusal.message)
        else:
            outcome = NightlyOutcome(folder, report=report)
        with self._database.transaction() as connection:
            connection.execute(
                clients.update().where(clients.c.folder == folder).values(last_nightly_on=local_day)
            )
        log.info("nightly_pass", folder=folder, **outcome.as_dict())
        return outcome

    def run_now(self) -> list[NightlyOutcome]:
        """One nightly pass now for every client set to nightly, whatever the time."""
        now = self._clock()
        return [
            self._run(row.folder, _local(now, row.timezone).date())
            for row in self._nightly_clients()
        ]

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
                outcomes.append(self._run(row.folder, local.date()))
        return outcomes


def serve_scheduler(
    runs: NightlyRuns, stop: threading.Event, *, every_seconds: float = 30.0
) -> None:
    """Stay up and run each nightly client's pass at its local time, until `stop` is set."""
    log.info("scheduler_started")
    while not stop.is_set():
        try:
            runs.run_due()
        except Exception:  # one bad pass must not stop the nights to come
            log.exception("scheduler_pass_failed")
        stop.wait(every_seconds)
    log.info("scheduler_stopped")
