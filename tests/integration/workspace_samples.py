"""A workspace on a test database, a ledger connector that only records, and entries to import."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ledgerbridge.connectors.base import IncomingResult, LinkState
from ledgerbridge.connectors.relay_connector import RelayConnector
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import FixedClock
from ledgerbridge.domain.entries import Entry, parse_entry
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.setup import FolderSetup, parse_setup
from ledgerbridge.relay.values import OutgoingBatch
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.tables import entries, revisions, with_content
from tests.integration.ledger_samples import acme_document
from tests.unit.conftest import EDF_INVOICE

Document = dict[str, Any]

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
PUBLISHED_AT = datetime(2026, 3, 19, 18, 0, tzinfo=UTC)


class Doorway:
    """The built-in connector, with a hook run inside `deposit` (the sync is then running)
    and failures to order."""

    def __init__(self, inner: RelayConnector) -> None:
        self._inner = inner
        self.during_deposit: Callable[[OutgoingBatch], None] | None = None
        self.unreachable: set[str] = set()  # folders whose deposits fail

    def folder_exists(self, folder: str) -> bool:
        return self._inner.folder_exists(folder)

    def deposit(self, batch: OutgoingBatch) -> None:
        if batch.folder in self.unreachable:
            raise ConnectionError(f"the relay cannot be reached for {batch.folder}")
        hook, self.during_deposit = self.during_deposit, None
        if hook is not None:
            hook(batch)
        self._inner.deposit(batch)

    def collect_results(self, folder: str) -> list[IncomingResult]:
        return self._inner.collect_results(folder)

    def acknowledge(self, folder: str, result_ids: list[int]) -> None:
        self._inner.acknowledge(folder, result_ids)

    def link_state(self, folder: str) -> LinkState:
        return self._inner.link_state(folder)

    def published_setup(self, folder: str) -> tuple[FolderSetup, datetime] | None:
        return self._inner.published_setup(folder)


class RecordingConnector:
    """A ledger that has the folders it is told, keeps what is deposited, and publishes a
    setup when one is given: enough to drive the workspace without a relay."""

    def __init__(self, folders: Iterable[str] = ("ACME",)) -> None:
        self.folders = set(folders)
        self.deposited: list[OutgoingBatch] = []
        self.publications: dict[str, tuple[FolderSetup, datetime]] = {}

    def folder_exists(self, folder: str) -> bool:
        return folder in self.folders

    def deposit(self, batch: OutgoingBatch) -> None:
        if all(known.batch_id != batch.batch_id for known in self.deposited):
            self.deposited.append(batch)

    def collect_results(self, folder: str) -> list[IncomingResult]:
        return []

    def acknowledge(self, folder: str, result_ids: list[int]) -> None:
        return None

    def link_state(self, folder: str) -> LinkState:
        return LinkState(folder, True, True, None, None, None)

    def published_setup(self, folder: str) -> tuple[FolderSetup, datetime] | None:
        return self.publications.get(folder)


def new_workspace(
    database: Database, connector: RecordingConnector | None = None
) -> tuple[Workspace, RecordingConnector, FixedClock]:
    connector = connector or RecordingConnector()
    clock = FixedClock(NOW)
    return Workspace(database, connector, clock), connector, clock


def acme_setup() -> FolderSetup:
    return parse_setup(acme_document())


def invoice(entry_id: str, **changes: Any) -> Document:
    """The §4.2 EDF invoice under another id, accepted by ACME as it stands."""
    document: Document = {**copy.deepcopy(EDF_INVOICE), "id": entry_id}
    document.update(copy.deepcopy(changes))
    return document


def without_auxiliary(entry_id: str) -> Document:
    """An invoice whose supplier line lacks its auxiliary account: collective_account."""
    document = invoice(entry_id)
    del document["lines"][2]["auxiliary"]
    return document


def parsed(*documents: Document) -> list[Entry]:
    return [parse_entry(document, index) for index, document in enumerate(documents)]


def force_status(
    database: Database,
    folder: str,
    entry_id: str,
    status: Status,
    **values: Any,
) -> None:
    """Put an entry in a status as the sync and the ledger's results would (they are not
    what these tests are about)."""
    with database.transaction() as connection:
        connection.execute(
            entries.update()
            .where(entries.c.client == folder, entries.c.entry_id == entry_id)
            .values(status=status.value, **values)
        )


def failed_by_ledger(
    database: Database, folder: str, entry_id: str, code: str, message: str
) -> None:
    force_status(
        database,
        folder,
        entry_id,
        Status.SYNC_FAILED,
        code=code,
        message=message,
        findings=None,
    )


def stored(database: Database, folder: str, entry_id: str) -> sa.Row[Any] | None:
    with database.transaction(write=False) as connection:
        return connection.execute(
            sa.select(entries, revisions.c.content)
            .select_from(with_content)
            .where(entries.c.client == folder, entries.c.entry_id == entry_id)
        ).first()
