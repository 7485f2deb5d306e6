"""The parts put together on one database: ledger, relay, connector and workspace services.

The composition root of the command line (and of any other entry point): nothing else
builds services, so every verb sees the same clock, database and connector.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledgerbridge.connectors.relay_connector import RelayConnector
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock, system_clock
from ledgerbridge.ledger.service import Ledger
from ledgerbridge.logs import log
from ledgerbridge.relay.opening import Progress
from ledgerbridge.relay.service import Relay
from ledgerbridge.relay.values import OpeningReport
from ledgerbridge.workspace.diagnostics import Diagnostics
from ledgerbridge.workspace.nightly import NightlyRuns
from ledgerbridge.workspace.sync import ResultsReport, Synchronizer


@dataclass(frozen=True)
class Platform:
    database: Database
    clock: Clock
    ledger: Ledger
    relay: Relay
    connector: RelayConnector
    synchronizer: Synchronizer
    diagnostics: Diagnostics
    nightly: NightlyRuns

    @classmethod
    def open(
        cls, home: Path | None = None, url: str | None = None, clock: Clock = system_clock
    ) -> Platform:
        return cls.on(Database.open(home=home, url=url), clock)

    @classmethod
    def on(cls, database: Database, clock: Clock = system_clock) -> Platform:
        ledger = Ledger(database, clock=clock)
        relay = Relay(database, clock)
        connector = RelayConnector(relay, ledger.folders)
        synchronizer = Synchronizer(database, connector, clock)
        return cls(
            database=database,
            clock=clock,
            ledger=ledger,
            relay=relay,
            connector=connector,
            synchronizer=synchronizer,
            diagnostics=Diagnostics(database, connector, clock),
            nightly=NightlyRuns(database, synchronizer, clock),
        )

    def open_accounting(
        self, folder: str, *, progress: Progress | None = None, forked: bool = False
    ) -> tuple[OpeningReport, ResultsReport]:
        """The ledger opens the folder: waiting batches are injected and their results are
        in the workspace when this returns (SPEC §3: results come back at once).

        `progress` hears (items injected, items waiting) as the injection goes; `forked`:
        a batch of some size is read and checked in another process (see
        Relay.open_folder)."""
        try:
            opening = self.relay.open_folder(folder, self.ledger, progress=progress, forked=forked)
        except Exception:
            # Batches injected before the failure have their answers stored in the relay:
            # they reach the workspace all the same, and the failure is the one reported.
            try:
                self.synchronizer.receive_results(folder)
            except Exception:
                log.exception("results_delivery_failed", folder=folder)
            raise
        return opening, self.synchronizer.receive_results(folder)
