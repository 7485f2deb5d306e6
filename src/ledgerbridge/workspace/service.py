"""The workspace as the CLI, the API and the pages use it: one method per action, one transaction each.

Refusals are `Refusal`s (an unknown client or entry, an illegal status change, a folder
the ledger does not have); a malformed document or patch is `MalformedDocument`, and then
nothing is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgerbridge.connectors.base import LedgerConnector
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.setup import FolderSetup, ReferenceData
from ledgerbridge.relay.values import OutgoingBatch, reference_items
from ledgerbridge.workspace import clients, entries, importing, mirror
from ledgerbridge.workspace.clients import AutoSend, ClientSettings, reference_content
from ledgerbridge.workspace.entries import EditOutcome, EntryRow, EntryView, HistoryLine
from ledgerbridge.workspace.errors import UnknownLedgerFolder
from ledgerbridge.workspace.importing import ImportReport
from ledgerbridge.workspace.mirror import Mirror
from ledgerbridge.workspace.transitions import Change

REFERENCE = "reference"


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class ConnectReport:
    """What connecting a client did: its settings, and the reference data sent, if any."""

    client: ClientSettings
    created: bool
    reference_batch: str | None = None
    accounts: int = 0
    third_parties: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.client.as_dict(),
            "created": self.created,
            "reference_batch": self.reference_batch,
            "accounts_sent": self.accounts,
            "third_parties_sent": self.third_parties,
        }

    def lines(self) -> list[str]:
        verb = "connected" if self.created else "already connected; settings updated"
        lines = [f"Client {self.client.folder} {verb}.", self.client.describe()]
        if self.reference_batch is not None:
            if self.accounts + self.third_parties == 1:
                taken = (
                    "the ledger takes it at the next opening of the folder's accounting. If the"
                    " ledger already has it, it comes back rejected; this rejection is expected"
                    " and has no consequence."
                )
            else:
                taken = (
                    "the ledger takes them at the next opening of the folder's accounting. Those"
                    " it already has come back rejected; these rejections are expected and have"
                    " no consequence."
                )
            lines.append(
                f"Sent {counted(self.accounts, 'account', 'accounts')} and"
                f" {counted(self.third_parties, 'third party', 'third parties')} to the"
                f" ledger (batch {self.reference_batch}): {taken}"
            )
        return lines


class Workspace:
    """Clients, their entries and statuses, and the pre-flight against the mirrored setup."""

    def __init__(self, database: Database, connector: LedgerConnector, clock: Clock) -> None:
        self._database = database
        self._connector = connector
        self._clock = clock

    # -- clients -----------------------------------------------------------------------

    def connect_client(
        self,
        folder: str,
        *,
        reference: ReferenceData | None = None,
        auto_send: AutoSend | None = None,
        api_enabled: bool | None = None,
    ) -> ConnectReport:
        """Tie a client to a ledger folder (initial connection), or update its settings.

        With reference data, its accounts and third parties go to the ledger as one
        reference batch, noted in the outbox before it is deposited.
        """
        if not self._connector.folder_exists(folder):
            raise UnknownLedgerFolder(folder)
        now = self._clock()
        batch_id = None
        items = (
            reference_items(reference.accounts, reference.third_parties)
            if reference is not None
            else ()
        )
        with self._database.transaction() as connection:
            settings, created = clients.connect_client(
                connection, folder, api_enabled=api_enabled, auto_send=auto_send, at=now
            )
            if items:
                batch_id = f"{folder}-{REFERENCE}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
                clients.record_outgoing_batch(
                    connection,
                    folder,
                    batch_id,
                    kind=REFERENCE,
                    actor="accountant",
                    at=now,
                    content=reference_content(items),
                )
        if batch_id is None or reference is None:
            return ConnectReport(settings, created)
        self._connector.deposit(OutgoingBatch.of_reference(batch_id, folder, items))
        with self._database.transaction() as connection:
            clients.confirm_deposit(connection, batch_id, self._clock())
        return ConnectReport(
            settings, created, batch_id, len(reference.accounts), len(reference.third_parties)
        )

    def set_client(
        self,
        folder: str,
        *,
        api_enabled: bool | None = None,
        auto_send: AutoSend | None = None,
        send_at: str | None = None,
        timezone: str | None = None,
    ) -> ClientSettings:
        """Change the settings given; the others keep their value. `timezone` is the
        client's (IANA name): its nightly hour, local dates and the times shown follow it."""
        with self._database.transaction() as connection:
            return clients.update_client(
                connection,
                folder,
                api_enabled=api_enabled,
                auto_send=auto_send,
                send_at=send_at,
                timezone=timezone,
            )

    def client(self, folder: str) -> ClientSettings:
        with self._database.transaction(write=False) as connection:
            return clients.require_client(connection, folder)

    def clients(self) -> list[ClientSettings]:
        with self._database.transaction(write=False) as connection:
            return clients.all_clients(connection)

    # -- entries -------------------------------------------------------------------------

    def import_entries(
        self,
        folder: str,
        batch: Iterable[Entry],
        *,
        before_commit: Callable[[], None] = _nothing,
    ) -> ImportReport:
        """Import a batch (read lazily) into To Verify; `before_commit` may still refuse it
        (a streamed document found malformed at its end), and then nothing is stored."""
        with self._database.transaction() as connection:
            clients.require_client(connection, folder)
            return importing.import_entries(
                connection,
                folder,
                batch,
                at=self._clock(),
                preflight=mirror.preflight_of(connection, folder),
                before_commit=before_commit,
            )

    def list_entries(
        self, folder: str, statuses: Collection[Status] | None = None
    ) -> list[EntryRow]:
        with self._database.transaction(write=False) as connection:
            return entries.list_entries(connection, folder, statuses)

    def show_entry(self, folder: str, entry_id: str) -> EntryView:
        """The entry at its current revision, with its document."""
        with self._database.transaction(write=False) as connection:
            return entries.show_entry(connection, folder, entry_id)

    def verify(self, folder: str, ids: Iterable[str]) -> list[Change]:
        with self._database.transaction() as connection:
            return entries.verify(connection, folder, ids, self._clock())

    def verify_all(self, folder: str) -> list[Change]:
        """Every to_verify and sync_failed entry of the client."""
        with self._database.transaction() as connection:
            return entries.verify_all(connection, folder, self._clock())

    def verify_failed_with_code(self, folder: str, code: str) -> list[Change]:
        """Every sync_failed entry of the client rejected with `code`."""
        with self._database.transaction() as connection:
            return entries.verify_failed_with_code(connection, folder, code, self._clock())

    def edit(
        self, folder: str, entry_id: str, patch: object, *, source: str = "patch"
    ) -> EditOutcome:
        with self._database.transaction() as connection:
            return entries.edit(connection, folder, entry_id, patch, self._clock(), source=source)

    def exclude(self, folder: str, ids: Iterable[str]) -> list[Change]:
        with self._database.transaction() as connection:
            return entries.exclude(connection, folder, ids, self._clock())

    def restore(self, folder: str, ids: Iterable[str]) -> list[Change]:
        with self._database.transaction() as connection:
            return entries.restore(connection, folder, ids, self._clock())

    def history(self, folder: str, entry_id: str) -> list[HistoryLine]:
        with self._database.transaction(write=False) as connection:
            return entries.entry_history(connection, folder, entry_id)

    # -- mirror and pre-flight -------------------------------------------------------------

    def refresh_mirror(self, folder: str) -> Mirror | None:
        """Keep the setup the ledger last published for the folder (None: it never did)."""
        with self._database.transaction(write=False) as connection:
            clients.require_client(connection, folder)
            kept = mirror.load_mirror(connection, folder)
        published = self._connector.published_setup(folder)
        if published is None:
            return kept
        setup, published_at = published
        if kept is not None and kept.published_at == published_at and kept.setup == setup:
            return kept  # nothing new: no write
        return self.store_mirror(folder, setup, published_at)

    def store_mirror(self, folder: str, setup: FolderSetup, published_at: datetime) -> Mirror:
        """Keep `setup` as the folder's mirror (and predict its entries again against it)."""
        with self._database.transaction() as connection:
            clients.require_client(connection, folder)
            return mirror.store_mirror(
                connection, folder, setup, published_at=published_at, received_at=self._clock()
            )

    def mirror(self, folder: str) -> Mirror | None:
        with self._database.transaction(write=False) as connection:
            clients.require_client(connection, folder)
            return mirror.load_mirror(connection, folder)
