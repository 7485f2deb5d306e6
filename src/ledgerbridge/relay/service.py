"""The relay as others use it: deposits, injection at a folder's opening, results, connectors.

Each method is one or more short transactions on the relay's own tables. Injection is
the only one that reaches the ledger (relay/opening.py): it posts through it, then stores
the answers and marks the batch injected in one transaction, so a crash in between leaves
the batch waiting and the next opening injects it again (the ledger answers replays).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from ledgerbridge import collector
from ledgerbridge.bulk import BulkInsert, chunked, raw, read_converter, update_where_in
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import DEFAULT_TIMEZONE, Clock, system_clock
from ledgerbridge.domain.entries import decode_entry, is_strict_entry
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.setup import (
    Account,
    FolderSetup,
    ThirdParty,
    read_value,
    setup_from_json,
)
from ledgerbridge.relay.chunks import answers_from_json, embedded, items_json
from ledgerbridge.relay.errors import (
    BatchIdTaken,
    CertificateExpired,
    ConnectorInactive,
    ConsentRequired,
    FolderNotInLedger,
)
from ledgerbridge.relay.injection import InjectionLedger, StoredItem
from ledgerbridge.relay.opening import Openings, Progress
from ledgerbridge.relay.tables import (
    CHUNK_ITEMS,
    CREDENTIAL_ROW,
    WAITING,
    batches,
    connectors,
    credential,
    item_chunks,
    publications,
    result_chunks,
)
from ledgerbridge.relay.values import (
    CERTIFICATE_LAPSED,
    ENTRIES,
    NEVER_AUTHENTICATED,
    ConnectorState,
    Credential,
    DepositReceipt,
    OpeningReport,
    OutgoingBatch,
    Publication,
    RelayResult,
    WaitingBatch,
)

# A date given for the credential's expiry is valid to the end of that day, in the
# ledger's country.
LEDGER_TIMEZONE = ZoneInfo(DEFAULT_TIMEZONE)
ID_CHUNK = 500  # ids per IN (...) list


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot keep {type(value).__name__} in a relay document")


def _dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def one_year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def end_of_day(day: date) -> datetime:
    """The first instant after `day` ends in the ledger's time zone, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), LEDGER_TIMEZONE).astimezone(UTC)


class Relay:
    """Batches in transit per folder, the ledger's answers, connectors and the credential."""

    def __init__(
        self, database: Database, clock: Clock = system_clock, *, chunk_size: int = CHUNK_ITEMS
    ) -> None:
        """`chunk_size`: items of a batch, and answers, kept per chunk (see relay/tables.py)."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self._database = database
        self._clock = clock
        self._chunk_size = chunk_size
        self._openings = Openings(database, clock, chunk_size)

    # -- deposits ----------------------------------------------------------------------

    def deposit(self, batch: OutgoingBatch) -> DepositReceipt:
        """Keep the batch until the folder's accounting is opened.

        The same batch id again is a no-op that returns the first receipt. A malformed
        entry or reference item refuses the whole batch (MalformedDocument), nothing kept.
        """
        known = self._receipt(batch.batch_id)
        if known is not None:
            return _same_batch(known, batch)
        items = _stored_items(batch)
        now = self._clock()
        try:
            with self._database.transaction() as connection:
                inserted = connection.execute(
                    _NEW_BATCH,
                    {
                        "batch_id": batch.batch_id,
                        "folder": batch.folder,
                        "kind": batch.kind,
                        "size": len(items),
                        "deposited_at": now,
                        "state": WAITING,
                    },
                )
                assert inserted.inserted_primary_key is not None  # a single-row insert
                batch_pk = inserted.inserted_primary_key[0]
                statement = BulkInsert(
                    connection, item_chunks, ("batch", "first_position", "items")
                )
                for chunk in chunked(items, self._chunk_size):
                    statement.insert([(batch_pk, chunk[0].position, items_json(chunk))])
        except IntegrityError:
            # The same batch deposited at the same moment by another process.
            known = self._receipt(batch.batch_id)
            if known is None:
                raise
            return _same_batch(known, batch)
        return DepositReceipt(batch.batch_id, batch.folder, batch.kind, len(items), now)

    def _receipt(self, batch_id: str) -> DepositReceipt | None:
        with self._database.transaction(write=False) as connection:
            row = connection.execute(_BATCH, {"batch_id": batch_id}).one_or_none()
        if row is None:
            return None
        return DepositReceipt(
            row.batch_id, row.folder, row.kind, row.size, row.deposited_at, already_deposited=True
        )

    def waiting(self, folder: str) -> list[WaitingBatch]:
        """The folder's batches not yet injected, in deposit order."""
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(
                sa.select(batches)
                .where(batches.c.folder == folder, batches.c.state == WAITING)
                .order_by(batches.c.id)
            ).all()
        return [
            WaitingBatch(
                batch_id=row.batch_id,
                folder=row.folder,
                kind=row.kind,
                size=row.size,
                deposited_at=row.deposited_at,
                last_attempt_at=row.last_attempt_at,
                last_wait_reason=row.last_wait_reason,
            )
            for row in rows
        ]

    # -- the administrator's credential and the connectors -------------------------------

    def authenticate_administrator(self, expires: date | None = None) -> Credential:
        """Record the reference administrator's authentication, valid one year by default
        or to the end of `expires` (a past date records an expired credential)."""
        now = self._clock()
        expires_at = one_year_after(now) if expires is None else end_of_day(expires)
        with self._database.transaction() as connection:
            _upsert(
                connection,
                credential,
                {"id": CREDENTIAL_ROW, "authenticated_at": now, "expires_at": expires_at},
            )
        return Credential(now, expires_at, valid=expires_at > now)

    def credential(self) -> Credential | None:
        """The reference administrator's credential as of now; None if never authenticated."""
        with self._database.transaction(write=False) as connection:
            return self._credential(connection)

    def _credential(self, connection: Connection) -> Credential | None:
        row = connection.execute(_CREDENTIAL).one_or_none()
        if row is None:
            return None
        return Credential(row.authenticated_at, row.expires_at, row.expires_at > self._clock())

    def activate_connector(self, folder: str, *, accept: bool) -> ConnectorState:
        """Activate the folder's marketplace connector; its interactions must be accepted."""
        if not accept:
            raise ConsentRequired(folder)
        return self._set_connector(folder, active=True)

    def deactivate_connector(self, folder: str) -> ConnectorState:
        """Deactivate it; waiting batches stay, and wait for its reactivation."""
        return self._set_connector(folder, active=False)

    def _set_connector(self, folder: str, *, active: bool) -> ConnectorState:
        with self._database.transaction() as connection:
            # Deactivating unticks the acceptance too: activating again asks for it anew.
            _upsert(
                connection,
                connectors,
                {
                    "folder": folder,
                    "active": active,
                    "consent": active,
                    "changed_at": self._clock(),
                },
            )
            return self._connector_state(connection, folder)

    def connector_state(self, folder: str) -> ConnectorState:
        """The folder's connector, the administrator's credential and the batches waiting."""
        with self._database.transaction(write=False) as connection:
            return self._connector_state(connection, folder)

    def _connector_state(self, connection: Connection, folder: str) -> ConnectorState:
        row = connection.execute(_CONNECTOR, {"folder": folder}).one_or_none()
        waiting = connection.scalar(_WAITING_COUNT, {"folder": folder})
        return ConnectorState(
            folder=folder,
            active=bool(row.active) if row else False,
            consent=bool(row.consent) if row else False,
            changed_at=row.changed_at if row else None,
            credential=self._credential(connection),
            waiting_batches=int(waiting or 0),
        )

    def _require_passage(self, folder: str, action: str) -> ConnectorState:
        """The credential, then the connector: refuse what they do not let through."""
        state = self.connector_state(folder)
        if state.credential is None or not state.credential.valid:
            raise CertificateExpired(state.credential.expires_at if state.credential else None)
        if state.connector_reason is not None:
            raise ConnectorInactive(folder, action, state.connector_reason)
        return state

    # -- injection ---------------------------------------------------------------------

    def open_folder(
        self,
        folder: str,
        ledger: InjectionLedger,
        *,
        progress: Progress | None = None,
        forked: bool = False,
    ) -> OpeningReport:
        """Open the folder's accounting: inject its waiting batches, in deposit order.

        Refused (CertificateExpired) while the credential is expired or missing, nothing
        injected; with the connector inactive, nothing is injected and the report says how
        many batches wait and why. Either way each waiting batch records why it waits.
        `progress` hears (items handed to the ledger, items of the waiting batches) as
        the injection goes. `forked` (a command line on several cores): the ledger reads
        and checks a batch of opening.FORKED_FROM_ITEMS entries or more in a process it
        keeps for them, while this one stores what it posts.
        """
        if not ledger.has_folder(folder):
            raise FolderNotInLedger(folder, ledger.folders())
        state = self.connector_state(folder)
        if state.credential is None or not state.credential.valid:
            lapse = NEVER_AUTHENTICATED if state.credential is None else CERTIFICATE_LAPSED
            self._openings.note_waiting(folder, lapse)
            raise CertificateExpired(state.credential.expires_at if state.credential else None)
        if state.connector_reason is not None:
            waiting = self._openings.note_waiting(folder, state.connector_reason)
            return OpeningReport(
                folder, waiting_batches=waiting, wait_reason=state.connector_reason
            )
        # The items read and the answers stored are short-lived and freed by reference
        # counting: no collection walks every object alive meanwhile (see collector).
        with collector.paused():
            return self._openings.inject_waiting(folder, ledger, progress, forked=forked)

    # -- results on their way back -----------------------------------------------------

    def collect_results(self, folder: str) -> list[RelayResult]:
        """The folder's results not yet acknowledged, oldest first.

        Results come by chunks, each result under the id of its chunk, shared with the
        others of the chunk: acknowledging it acknowledges the chunk.
        """
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(_UNDELIVERED, {"folder": folder}).tuples().all()
            moment = read_converter(connection, result_chunks.c.created_at)
        collected: list[RelayResult] = []
        for chunk_id, batch_id, answers, created_at in rows:
            at = moment(created_at)
            collected.extend(
                RelayResult(
                    result_id=chunk_id,
                    batch_id=batch_id,
                    folder=folder,
                    position=position,
                    key=key,
                    result=result,
                    expected=expected,
                    created_at=at,
                    item=item,
                )
                for position, key, item, result, expected in answers_from_json(answers)
            )
        return collected

    def acknowledge(self, result_ids: Iterable[int], *, folder: str | None = None) -> int:
        """Mark the chunks of these results delivered (again is a no-op); how many chunks
        were newly marked.

        The workspace acknowledges what it collected, whole chunks, once it has applied
        every result of them.
        """
        now = self._clock()
        undelivered: dict[str, Any] = {"delivered_at": None}
        if folder is not None:
            undelivered["folder"] = folder
        with self._database.transaction() as connection:
            return update_where_in(
                connection,
                result_chunks,
                {"delivered_at": now},
                undelivered,
                "id",
                sorted(set(result_ids)),
                chunk=ID_CHUNK,
            )

    # -- the ledger's setup published to the workspace ---------------------------------

    def publish_setup(self, folder: str, setup: FolderSetup) -> Publication:
        """Publish the folder's setup (fiscal years and the rest), dated now.

        Needs the credential valid (else CertificateExpired) and the connector active with
        its interactions accepted (else ConnectorInactive).
        """
        if setup.folder != folder:
            raise ValueError(f"the setup is folder {setup.folder}'s, not {folder}'s")
        self._require_passage(folder, "resynchronize the fiscal years")
        now = self._clock()
        with self._database.transaction() as connection:
            _upsert(
                connection,
                publications,
                {"folder": folder, "setup": _dumps(setup.to_document()), "published_at": now},
            )
        return Publication(folder, setup, now)

    def published_setup(self, folder: str) -> Publication | None:
        """The latest setup the folder published, or None."""
        with self._database.transaction(write=False) as connection:
            row = connection.execute(
                sa.select(publications).where(publications.c.folder == folder)
            ).one_or_none()
        if row is None:
            return None
        return Publication(folder, setup_from_json(row.setup), row.published_at)


def _same_batch(known: DepositReceipt, batch: OutgoingBatch) -> DepositReceipt:
    """The first receipt of a batch deposited again; refused if the id is another's."""
    if (known.folder, known.kind) != (batch.folder, batch.kind):
        raise BatchIdTaken(known.batch_id, known.folder, known.kind)
    return known


def _upsert(connection: Connection, table: sa.Table, values: dict[str, Any]) -> None:
    """Insert the row, or update it where its primary key is taken."""
    keys = [column.name for column in table.primary_key.columns]
    changes = {name: value for name, value in values.items() if name not in keys}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded only where it is used

        pg_insert = postgresql.insert(table).values(values)
        connection.execute(pg_insert.on_conflict_do_update(index_elements=keys, set_=changes))
        return
    lite_insert = sqlite.insert(table).values(values)
    connection.execute(lite_insert.on_conflict_do_update(index_elements=keys, set_=changes))


# The statements each deposit, opening and delivery runs, built once: a statement made
# anew costs more than running it (a tenth of a millisecond).
_NEW_BATCH = batches.insert()
_BATCH = sa.select(batches).where(batches.c.batch_id == sa.bindparam("batch_id"))
_CONNECTOR = sa.select(connectors).where(connectors.c.folder == sa.bindparam("folder"))
_WAITING_COUNT = (
    sa.select(sa.func.count())
    .select_from(batches)
    .where(batches.c.folder == sa.bindparam("folder"), batches.c.state == WAITING)
)
_CREDENTIAL = sa.select(credential)
_UNDELIVERED = (
    sa.select(
        result_chunks.c.id,
        batches.c.batch_id,
        result_chunks.c.answers,
        # A batch's chunks share their time: each distinct one converted once.
        raw(result_chunks.c.created_at),
    )
    .join(batches, result_chunks.c.batch == batches.c.id)
    .where(result_chunks.c.folder == sa.bindparam("folder"), result_chunks.c.delivered_at.is_(None))
    .order_by(result_chunks.c.id)
)


def _stored_items(batch: OutgoingBatch) -> list[StoredItem]:
    """The batch's items as the relay keeps them; MalformedDocument lists every bad one."""
    problems: list[Problem] = []
    items: list[StoredItem] = []
    if batch.kind == ENTRIES:
        for position, outgoing in enumerate(batch.entries):
            content = outgoing.content
            # Nearly every entry is strict JSON that the fast reader takes, kept as it is;
            # any other is read as the injection will read it, and refused if that fails.
            if is_strict_entry(content):
                items.append(StoredItem(position, outgoing.key, "entry", msgspec.Raw(content)))
                continue
            try:
                decode_entry(content, position)
            except MalformedDocument as malformed:
                problems.extend(malformed.problems)
                continue
            items.append(StoredItem(position, outgoing.key, "entry", embedded(content)))
    else:
        for position, reference in enumerate(batch.reference):
            kind = Account if reference.kind == "account" else ThirdParty
            try:
                read_value(kind, reference.document, f"reference[{position}]")
            except MalformedDocument as malformed:
                problems.extend(malformed.problems)
                continue
            document = embedded(_dumps(reference.document))
            items.append(StoredItem(position, reference.key, reference.kind, document))
    if problems:
        raise MalformedDocument(problems, source=f"batch {batch.batch_id} of folder {batch.folder}")
    return items
