"""The relay as others use it: deposits, injection at a folder's opening, results, connectors.

Each method is one or more short transactions on the relay's own tables. Injection is
the only one that reaches the ledger: it posts through it, then stores the answers and
marks the batch injected in one transaction, so a crash in between leaves the batch
waiting and the next opening injects it again (the ledger answers replays).
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from ledgerbridge import collector
from ledgerbridge.bulk import BulkInsert, raw, read_converter, update_where_in
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock, system_clock
from ledgerbridge.domain.entries import decode_entry
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.setup import (
    Account,
    FolderSetup,
    ThirdParty,
    read_value,
    setup_from_json,
)
from ledgerbridge.relay.errors import (
    BatchIdTaken,
    CertificateExpired,
    ConnectorInactive,
    ConsentRequired,
    FolderNotInLedger,
)
from ledgerbridge.relay.injection import (
    Answer,
    Injection,
    InjectionLedger,
    StoredItem,
    inject_entries,
    inject_reference,
)
from ledgerbridge.relay.tables import (
    CREDENTIAL_ROW,
    INJECTED,
    WAITING,
    batch_items,
    batches,
    connectors,
    credential,
    publications,
    results,
)
from ledgerbridge.relay.values import (
    ENTRIES,
    BatchKind,
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
LEDGER_TIMEZONE = ZoneInfo("Europe/Paris")
WRITE_CHUNK = 5000  # rows per executemany
ID_CHUNK = 500  # ids per IN (...) list
_RESULT = msgspec.json.Decoder()  # a §4.3 result as stored
# How long an opening's claim on a batch holds against openings on other hosts; on the
# same host, a claim lapses as soon as its process is gone.
INJECTION_LEASE = timedelta(minutes=10)
# Entries of a batch from which a forked process reading and checking them pays for itself
# (measured: 17-25% quicker from 20,000 entries on; slower below about 10,000, where
# starting it and waiting for its first chunk cost more than the overlap gives).
FORKED_FROM_ITEMS = 20_000
_HOST = socket.gethostname()


def new_claim() -> str:
    """This opening's name on a batch: host, process and a token of its own."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def claimer_is_gone(claim: str) -> bool:
    """Whether the process that claimed a batch has ended (known only on the same host)."""
    host, _, rest = claim.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this very process: another opening of it, still running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


T = TypeVar("T")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


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
        self, database: Database, clock: Clock = system_clock, *, chunk_size: int = 2000
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self._database = database
        self._clock = clock
        self._chunk_size = chunk_size

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
                    batches.insert().values(
                        batch_id=batch.batch_id,
                        folder=batch.folder,
                        kind=batch.kind,
                        size=len(items),
                        deposited_at=now,
                        state=WAITING,
                    )
                )
                assert inserted.inserted_primary_key is not None  # a single-row insert
                batch_pk = inserted.inserted_primary_key[0]
                statement = BulkInsert(connection, batch_items, ("batch", *StoredItem._fields))
                for chunk in _chunks(items, WRITE_CHUNK):
                    statement.insert([(batch_pk, *item) for item in chunk])
        except IntegrityError:
            # The same batch deposited at the same moment by another process.
            known = self._receipt(batch.batch_id)
            if known is None:
                raise
            return _same_batch(known, batch)
        return DepositReceipt(batch.batch_id, batch.folder, batch.kind, len(items), now)

    def _receipt(self, batch_id: str) -> DepositReceipt | None:
        with self._database.transaction(write=False) as connection:
            row = connection.execute(
                sa.select(batches).where(batches.c.batch_id == batch_id)
            ).one_or_none()
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
        row = connection.execute(sa.select(credential)).one_or_none()
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
        row = connection.execute(
            sa.select(connectors).where(connectors.c.folder == folder)
        ).one_or_none()
        waiting = connection.scalar(
            sa.select(sa.func.count())
            .select_from(batches)
            .where(batches.c.folder == folder, batches.c.state == WAITING)
        )
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
        and checks a batch of FORKED_FROM_ITEMS entries or more in a forked process while
        this one stores what it posts.
        """
        known = ledger.folders()
        if folder not in known:
            raise FolderNotInLedger(folder, known)
        state = self.connector_state(folder)
        if state.credential is None or not state.credential.valid:
            self._note_waiting(folder, state.credential_reason)
            raise CertificateExpired(state.credential.expires_at if state.credential else None)
        if state.connector_reason is not None:
            waiting = self._note_waiting(folder, state.connector_reason)
            return OpeningReport(
                folder, waiting_batches=waiting, wait_reason=state.connector_reason
            )
        # The items read and the answers stored are short-lived and freed by reference
        # counting: no collection walks every object alive meanwhile (see collector).
        with collector.paused():
            return self._inject_waiting(folder, ledger, progress, forked=forked)

    def _inject_waiting(
        self, folder: str, ledger: InjectionLedger, progress: Progress | None, *, forked: bool
    ) -> OpeningReport:
        report = _Tally(folder)
        batches_waiting = self._waiting_batches(folder)
        told = _Told(progress, sum(size for _, _, size in batches_waiting))
        for batch_pk, kind, size in batches_waiting:
            claim = self._claim(batch_pk)
            if claim is None:
                report.busy += 1  # another opening injects it now; its answers will stand
                told.skip(size)
                continue
            stored = False
            try:
                items = self._read_items(batch_pk, size)
                if kind != ENTRIES:
                    injection = inject_reference(ledger, folder, told.as_read(items))
                elif forked and size >= FORKED_FROM_ITEMS:
                    # The forked process reads the items; this one tells progress by answers.
                    answered = told.as_read(self._read_item_keys(batch_pk, size))
                    injection = inject_entries(ledger, folder, items, answered_in_order=answered)
                else:
                    injection = inject_entries(ledger, folder, told.as_read(items))
                stored = self._store_injection(batch_pk, folder, injection, claim)
                if stored:
                    report.add(injection)
            finally:
                if not stored:
                    self._release(batch_pk, claim)
        return report.report()

    # A batch is injected by one opening at a time. Two openings posting the same batch
    # would each be right about the entries, replays included, but not about the rejected
    # ones: after a change of the folder's setup, an entry the first rejected may be posted
    # by the second, whose answers would then be lost. The claim is taken before posting;
    # it lapses when the opening's process is gone (same host) or after INJECTION_LEASE.

    def _claim(self, batch_pk: int) -> str | None:
        """Claim the waiting batch for this opening; None when another opening holds it."""
        now = self._clock()
        with self._database.transaction() as connection:
            row = connection.execute(
                sa.select(batches.c.state, batches.c.claimed_by, batches.c.claimed_until).where(
                    batches.c.id == batch_pk
                )
            ).one()
            if row.state != WAITING:
                return None
            held = row.claimed_by is not None and row.claimed_until is not None
            if held and row.claimed_until > now and not claimer_is_gone(row.claimed_by):
                return None
            claim = new_claim()
            taken = connection.execute(
                batches.update()
                .where(
                    batches.c.id == batch_pk,
                    batches.c.state == WAITING,
                    batches.c.claimed_by.is_(None)
                    if row.claimed_by is None
                    else batches.c.claimed_by == row.claimed_by,
                )
                .values(claimed_by=claim, claimed_until=now + INJECTION_LEASE)
            )
            return claim if taken.rowcount == 1 else None

    def _release(self, batch_pk: int, claim: str) -> None:
        """Give the batch back to the next opening (this one stopped before its answers)."""
        with self._database.transaction() as connection:
            connection.execute(
                batches.update()
                .where(batches.c.id == batch_pk, batches.c.claimed_by == claim)
                .values(claimed_by=None, claimed_until=None)
            )

    def _waiting_batches(self, folder: str) -> list[tuple[int, BatchKind, int]]:
        with self._database.transaction(write=False) as connection:
            return [
                (row.id, row.kind, row.size)
                for row in connection.execute(
                    sa.select(batches.c.id, batches.c.kind, batches.c.size)
                    .where(batches.c.folder == folder, batches.c.state == WAITING)
                    .order_by(batches.c.id)
                )
            ]

    def _note_waiting(self, folder: str, reason: str | None) -> int:
        with self._database.transaction() as connection:
            noted = connection.execute(
                batches.update()
                .where(batches.c.folder == folder, batches.c.state == WAITING)
                .values(last_wait_reason=reason, last_attempt_at=self._clock())
            )
            return int(noted.rowcount)

    def _read_items(self, batch_pk: int, size: int) -> Iterator[StoredItem]:
        """The batch's items, in order, by ranges of positions."""
        columns = (batch_items.c.position, batch_items.c.key, batch_items.c.kind)
        rows = self._read_ranges(batch_pk, size, (*columns, batch_items.c.content))
        return map(StoredItem._make, rows)

    def _read_item_keys(self, batch_pk: int, size: int) -> Iterator[tuple[int, str]]:
        """The position and key of each of the batch's items, in order, by ranges."""
        return self._read_ranges(batch_pk, size, (batch_items.c.position, batch_items.c.key))

    def _read_ranges(
        self, batch_pk: int, size: int, columns: tuple[sa.ColumnElement[Any], ...]
    ) -> Iterator[Any]:
        """The batch's items by ranges of positions, each range in a short read.

        No read stays open while the ledger posts, so SQLite's writer is never held up
        and a batch of any size is never read whole.
        """
        query = (
            sa.select(*columns)
            .where(
                batch_items.c.batch == batch_pk,
                batch_items.c.position >= sa.bindparam("start"),
                batch_items.c.position < sa.bindparam("stop"),
            )
            .order_by(batch_items.c.position)
        )
        for start in range(0, size, self._chunk_size):
            with self._database.transaction(write=False) as connection:
                rows = (
                    connection.execute(query, {"start": start, "stop": start + self._chunk_size})
                    .tuples()
                    .all()
                )
            yield from rows

    def _store_injection(
        self, batch_pk: int, folder: str, injection: Injection, claim: str
    ) -> bool:
        """The answers and the batch's new state, in one transaction; False when the claim
        was lost meanwhile (its lease over): then the other opening's answers stand."""
        now = self._clock()
        with self._database.transaction() as connection:
            marked = connection.execute(
                batches.update()
                .where(
                    batches.c.id == batch_pk,
                    batches.c.state == WAITING,
                    batches.c.claimed_by == claim,
                )
                .values(
                    state=INJECTED,
                    injected_at=now,
                    last_attempt_at=now,
                    last_wait_reason=None,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
            if marked.rowcount != 1:
                return False
            statement = BulkInsert(
                connection, results, ("batch", "folder", "created_at", *Answer._fields)
            )
            created_at = statement.converter("created_at")(now)
            flag = statement.converter("expected")
            for chunk in _chunks(injection.answers, WRITE_CHUNK):
                statement.insert(
                    [
                        (batch_pk, folder, created_at, position, key, item, result, flag(expected))
                        for position, key, item, result, expected in chunk
                    ]
                )
        return True

    # -- results on their way back -----------------------------------------------------

    def collect_results(self, folder: str, *, limit: int | None = None) -> list[RelayResult]:
        """The folder's results not yet acknowledged, oldest first."""
        query = (
            sa.select(
                results.c.id,
                batches.c.batch_id,
                results.c.position,
                results.c.key,
                results.c.result,
                results.c.expected,
                # A batch's results share their time: each distinct one converted once.
                raw(results.c.created_at),
                results.c.item,
            )
            .join(batches, results.c.batch == batches.c.id)
            .where(results.c.folder == folder, results.c.delivered_at.is_(None))
            .order_by(results.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(query).tuples().all()
            moment = read_converter(connection, results.c.created_at)
        decode = _RESULT.decode
        return [
            RelayResult(
                result_id=result_id,
                batch_id=batch_id,
                folder=folder,
                position=position,
                key=key,
                result=decode(result),
                expected=bool(expected),
                created_at=moment(created_at),
                item=item,
            )
            for result_id, batch_id, position, key, result, expected, created_at, item in rows
        ]

    def acknowledge(self, result_ids: Iterable[int], *, folder: str | None = None) -> int:
        """Mark results delivered (again is a no-op); how many were newly marked."""
        now = self._clock()
        undelivered: dict[str, Any] = {"delivered_at": None}
        if folder is not None:
            undelivered["folder"] = folder
        with self._database.transaction() as connection:
            return update_where_in(
                connection,
                results,
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


Progress = Callable[[int, int], None]


class _Told:
    """Tells `progress` how many items were handed to the ledger, out of all waiting."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def skip(self, count: int) -> None:
        self.done += count
        if self.progress is not None:
            self.progress(self.done, self.total)

    def as_read(self, items: Iterator[T]) -> Iterator[T]:
        if self.progress is None:
            yield from items
            return
        for item in items:
            self.done += 1
            if not self.done % _PROGRESS_EVERY:
                self.progress(self.done, self.total)
            yield item
        self.progress(self.done, self.total)


_PROGRESS_EVERY = 1000  # items between two words to `progress`


class _Tally:
    """An opening's counts, batch after batch."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.batches = 0
        self.busy = 0
        self.injections: list[Injection] = []

    def add(self, injection: Injection) -> None:
        self.batches += 1
        self.injections.append(injection)

    def report(self) -> OpeningReport:
        every = self.injections
        return OpeningReport(
            folder=self.folder,
            injected_batches=self.batches,
            posted=sum(injection.posted for injection in every),
            replayed=sum(injection.replayed for injection in every),
            rejected=sum(injection.rejected for injection in every),
            expected_rejections=sum(injection.expected_rejections for injection in every),
            reference_added=sum(injection.reference_added for injection in every),
            expected_items=tuple(item for injection in every for item in injection.expected_items),
            busy_batches=self.busy,
        )


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


def _stored_items(batch: OutgoingBatch) -> list[StoredItem]:
    """The batch's items as the relay keeps them; MalformedDocument lists every bad one."""
    problems: list[Problem] = []
    items: list[StoredItem] = []
    if batch.kind == ENTRIES:
        for position, outgoing in enumerate(batch.entries):
            try:
                decode_entry(outgoing.content, position)
            except MalformedDocument as malformed:
                problems.extend(malformed.problems)
                continue
            items.append(StoredItem(position, outgoing.key, "entry", outgoing.content))
    else:
        for position, reference in enumerate(batch.reference):
            kind = Account if reference.kind == "account" else ThirdParty
            try:
                read_value(kind, reference.document, f"reference[{position}]")
            except MalformedDocument as malformed:
                problems.extend(malformed.problems)
                continue
            items.append(
                StoredItem(position, reference.key, reference.kind, _dumps(reference.document))
            )
    if problems:
        raise MalformedDocument(problems, source=f"batch {batch.batch_id} of folder {batch.folder}")
    return items
