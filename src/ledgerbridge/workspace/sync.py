"""Synchronize: verified entries go to the relay as one batch; the ledger's results come back.

Exactly once rests on three things: the idempotency key (client, entry id, revision) that
travels with each entry and that the ledger holds unique; an outbox row written in the same
transaction that marks the entries synchronizing, so a deposit lost in a crash is deposited
again by the next sync under the same batch id (the relay takes a batch id once); and results
applied only to the entry revision and batch they answer, so a result received twice changes
nothing, not even once the entry has been sent again in a later batch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge import collector
from ledgerbridge.bulk import insert_rows, select_where_in, update_rows
from ledgerbridge.connectors.base import DepositRefused, IncomingResult, LedgerConnector
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock, local_time
from ledgerbridge.domain.keys import entry_key, parse_entry_key
from ledgerbridge.domain.lifecycle import Action, Status
from ledgerbridge.domain.plurals import counted
from ledgerbridge.logs import log
from ledgerbridge.processes import holder_is_gone, holder_name, holder_words
from ledgerbridge.relay.values import OutgoingBatch, OutgoingEntry
from ledgerbridge.workspace.clients import reference_from_content, unknown_client
from ledgerbridge.workspace.errors import ApiDisabled, SyncAlreadyRunning
from ledgerbridge.workspace.tables import (
    clients,
    entries,
    outbox,
    rejections,
    revisions,
    with_content,
)
from ledgerbridge.workspace.transitions import ID_CHUNK, Change, History, move_all

# A sync that died frees its client at once when it ran on this host (its process is
# gone), and after this elsewhere.
SYNC_LEASE = timedelta(minutes=30)


class _Lease(NamedTuple):
    """A sync's hold on its client: in the name of its process, until a time."""

    holder: str
    until: datetime


@dataclass(frozen=True, slots=True)
class SyncReport:
    folder: str
    sent: int  # entries deposited in this sync's new batch
    batch_id: str | None
    resent: int = 0  # entries of earlier batches whose deposit had not been confirmed
    actor: str = "accountant"
    refused: int = 0  # entries of a batch the relay refused for good: now sync_failed
    refusals: tuple[str, ...] = ()  # why, per refused batch
    reference_resent: int = 0  # the initial connection's items, their send interrupted

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "sent": self.sent,
            "batch_id": self.batch_id,
            "resent": self.resent,
            "refused": self.refused,
            "refusals": list(self.refusals),
            "reference_resent": self.reference_resent,
        }

    def summary(self) -> str:
        refused = (
            f" {counted(self.refused, 'entry was', 'entries were')} not sent:"
            f" {'; '.join(self.refusals)}. An entry not sent shows Synchronization failed with"
            " the reason: edit it, or mark it verified to send it again."
            if self.refused
            else ""
        )
        if self.reference_resent:
            items = counted(
                self.reference_resent,
                "account or third party, whose send was interrupted, was",
                "accounts and third parties, whose send was interrupted, were",
            )
            refused = f" The initial connection's {items} deposited again." + refused
        if not self.sent and not self.resent:
            if refused:
                return f"Client {self.folder}:{refused}"
            return f"Client {self.folder}: nothing to send (no verified entry)."
        text = f"Client {self.folder}: {counted(self.sent, 'entry', 'entries')} sent to the relay"
        if self.resent:
            text += (
                f", {counted(self.resent, 'entry', 'entries')} of an unconfirmed earlier send"
                " deposited again"
            )
        return (
            text
            + "; sent entries stay synchronizing until the ledger opens the folder's accounting."
            + refused
        )


class _Deposit(NamedTuple):
    """What handing one batch over gave: entries deposited, or refused and why."""

    sent: int = 0
    refused: int = 0
    refusal: str | None = None
    reference: int = 0  # accounts and third parties of the initial connection


@dataclass(frozen=True, slots=True)
class ResultsReport:
    folder: str
    synchronized: int = 0
    failed: int = 0
    expected_rejections: int = 0
    ignored: int = 0  # results for a revision already settled: received twice
    failures: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "synchronized": self.synchronized,
            "failed": self.failed,
            "expected_rejections": self.expected_rejections,
        }


class Synchronizer:
    """The Synchronize button, the nightly run, and the results on their way back."""

    def __init__(self, database: Database, connector: LedgerConnector, clock: Clock) -> None:
        self._database = database
        self._connector = connector
        self._clock = clock

    # -- sending -------------------------------------------------------------------------

    def sync(self, folder: str, *, actor: str = "accountant") -> SyncReport:
        """Deposit every verified entry of the client as one batch (SPEC §3)."""
        # A batch's rows, entries and documents are short-lived and freed by reference
        # counting: no collection walks every object alive meanwhile (see collector).
        with collector.paused():
            return self._sync(folder, actor)

    def _sync(self, folder: str, actor: str) -> SyncReport:
        now = self._clock()
        lease = _Lease(holder_name(), now + SYNC_LEASE)
        with self._database.transaction() as connection:
            self._take_lease(connection, folder, now, lease)
            pending = _unconfirmed(connection, folder)
            # With no earlier batch to deposit again, the verified entries are marked in the
            # transaction that takes the lease: one commit less, and a crash before it
            # commits leaves neither the lease nor the batch behind.
            outgoing = None if pending else self._mark_verified(connection, folder, actor)
        released = False
        try:
            earlier = [
                self._deposit(folder, row.batch_id)
                if row.kind == "entries"
                else self._deposit_reference(folder, row.batch_id, row.content)
                for row in pending
            ]
            if pending:
                with self._database.transaction() as connection:
                    outgoing = self._mark_verified(connection, folder, actor)
            if outgoing is None:
                batch_id, new = None, _Deposit()
            else:
                batch_id, rows = outgoing
                # The rows just marked synchronizing in this batch are the batch: they are
                # handed over as read, not read again. The deposit's confirmation frees the
                # lease in the same transaction.
                new = self._hand_over(folder, batch_id, rows, lease=lease)
                released = not new.refused
        finally:
            if not released:
                with self._database.transaction() as connection:
                    _release_lease(connection, folder, lease)
        deposits = [*earlier, new]
        return SyncReport(
            folder,
            new.sent,
            batch_id,
            sum(deposit.sent for deposit in earlier),
            actor,
            refused=sum(deposit.refused for deposit in deposits),
            refusals=tuple(deposit.refusal for deposit in deposits if deposit.refusal),
            reference_resent=sum(deposit.reference for deposit in earlier),
        )

    def _take_lease(
        self, connection: Connection, folder: str, now: datetime, lease: _Lease
    ) -> None:
        """Hold the client for this sync; refused while another sync runs. The lease of a
        sync that died is taken over: at once when its process was on this host, once the
        lease has run out otherwise. What it left unconfirmed is then deposited again."""
        client = connection.execute(_CLIENT_LOCKED, {"folder": folder}).first()
        if client is None:
            raise unknown_client(connection, folder)
        if not client.api_enabled:
            raise ApiDisabled(folder)
        held_until, holder = client.sync_lease_until, client.sync_lease_holder
        if held_until is not None and held_until >= now:
            if holder is None or not holder_is_gone(holder):
                raise SyncAlreadyRunning(
                    folder,
                    holder_words(holder) if holder else None,
                    local_time(held_until, client.timezone),
                )
            log.warning("sync_lease_taken_over", folder=folder, holder=holder)
        connection.execute(
            _TAKE_LEASE, {"b_folder": folder, "until": lease.until, "holder": lease.holder}
        )

    def _mark_verified(
        self, connection: Connection, folder: str, actor: str
    ) -> tuple[str, Sequence[sa.Row[tuple[str, int, str]]]] | None:
        """Mark the verified entries synchronizing in a new batch, with its outbox row, in
        the connection's transaction; the batch id and the entries (id, revision, content,
        by id), or None when no entry is verified."""
        now = self._clock()
        batch_id = f"{folder}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
        moved = move_all(
            connection,
            folder,
            Action.SYNC,
            actor=actor,
            at=now,
            message=f"sent to the relay in batch {batch_id}",
            values={"batch_id": batch_id, "attempted_at": now},
        )
        if not moved:
            return None
        connection.execute(
            _NEW_OUTBOX_ROW,
            {
                "batch_id": batch_id,
                "client": folder,
                "kind": "entries",
                "created_at": now,
                "actor": actor,
            },
        )
        return batch_id, connection.execute(_IN_BATCH, {"folder": folder, "batch": batch_id}).all()

    def _deposit_reference(self, folder: str, batch_id: str, content: str) -> _Deposit:
        items = reference_from_content(content)
        try:
            self._connector.deposit(OutgoingBatch.of_reference(batch_id, folder, items))
        except DepositRefused as refused:
            self._confirm_deposit(batch_id)  # never to be taken: nothing more to send
            return _Deposit(refusal=refused.message.removesuffix("."))
        self._confirm_deposit(batch_id)
        return _Deposit(reference=len(items))

    def _deposit(self, folder: str, batch_id: str) -> _Deposit:
        """Hand the batch to the relay (idempotent by batch id), then confirm it in the outbox.

        A batch the relay refuses for good is settled instead: its entries fail with the
        reason, so that they can be corrected or sent again, and the client's next syncs
        are not held up by it.
        """
        with self._database.transaction(write=False) as connection:
            rows = connection.execute(_IN_BATCH, {"folder": folder, "batch": batch_id}).all()
        if not rows:
            # Every entry of the batch has its result back: the relay had it, whatever the
            # outbox says. Depositing it again would only add an empty batch.
            self._confirm_deposit(batch_id)
            return _Deposit()
        return self._hand_over(folder, batch_id, rows)

    def _hand_over(
        self,
        folder: str,
        batch_id: str,
        rows: Sequence[sa.Row[tuple[str, int, str]]],
        *,
        lease: _Lease | None = None,
    ) -> _Deposit:
        """Deposit the batch of these synchronizing entries (id, revision, content, by id),
        then confirm it, freeing the sync's `lease` with the confirmation when given; a
        batch refused for good is settled instead (see `_deposit`)."""
        batch = OutgoingBatch(
            batch_id=batch_id,
            folder=folder,
            entries=tuple(
                OutgoingEntry(key=entry_key(folder, entry_id, revision), content=content)
                for entry_id, revision, content in rows
            ),
        )
        try:
            self._connector.deposit(batch)
        except DepositRefused as refused:
            self._settle_refused(
                folder, [(entry_id, revision) for entry_id, revision, _ in rows], refused
            )
            return _Deposit(refused=len(rows), refusal=refused.message.removesuffix("."))
        self._confirm_deposit(batch_id, folder=folder, lease=lease)
        return _Deposit(sent=len(rows))

    def _settle_refused(
        self, folder: str, sent: Sequence[tuple[str, int]], refused: DepositRefused
    ) -> None:
        """The refused batch's entries fail as a rejected result would make them fail; the
        batch then needs no more deposit."""
        at_fault: dict[int, list[str]] = {}
        for position, problem in refused.problems:
            at_fault.setdefault(position, []).append(problem)
        answers = []
        for position, (entry_id, revision) in enumerate(sent):
            problems = at_fault.get(position, [])
            reason = (
                "; ".join(problems)
                if problems
                else "the batch was refused whole because of other entries of it"
            )
            message = f"{refused.message.removesuffix('.')}: {reason}."
            result = {
                "id": entry_id,
                "status": "rejected",
                "code": refused.code,
                "message": message,
                "findings": [
                    {"code": refused.code, "line": None, "message": message, "detail": reason}
                ],
            }
            answers.append(
                IncomingResult(0, refused.batch_id, entry_key(folder, entry_id, revision), result)
            )
        with self._database.transaction() as connection:
            _apply_results(connection, folder, answers, self._clock())
            connection.execute(
                outbox.update()
                .where(outbox.c.batch_id == refused.batch_id)
                .values(deposited_at=self._clock())
            )

    def _confirm_deposit(
        self, batch_id: str, *, folder: str | None = None, lease: _Lease | None = None
    ) -> None:
        """The batch needs no more deposit; with `lease`, the sync frees its client too (a
        crash before this commits leaves both to the next sync, as a crash just after the
        confirmation would leave the lease)."""
        with self._database.transaction() as connection:
            connection.execute(_DEPOSITED, {"b_batch_id": batch_id, "at": self._clock()})
            if folder is not None and lease is not None:
                _release_lease(connection, folder, lease)

    # -- results ---------------------------------------------------------------------------

    def receive_results(self, folder: str) -> ResultsReport:
        """Apply the ledger's results waiting in the relay: synchronized or failed, once each.

        For a folder no client is tied to, nothing is collected: its results wait in the
        relay for the client that will be connected to it.
        """
        with collector.paused():  # as in `sync`
            return self._receive_results(folder)

    def _receive_results(self, folder: str) -> ResultsReport:
        with self._database.transaction(write=False) as connection:
            known = connection.execute(_CLIENT_FOLDER, {"folder": folder}).first()
        if known is None:
            return ResultsReport(folder)
        results = self._connector.collect_results(folder)
        if not results:
            return ResultsReport(folder)
        now = self._clock()
        with self._database.transaction() as connection:
            report = _apply_results(connection, folder, results, now)
        self._connector.acknowledge(folder, [result.result_id for result in results])
        return report


def _unconfirmed(connection: Connection, folder: str) -> Sequence[sa.Row[tuple[str, str, str]]]:
    """The batches whose deposit was never confirmed (a crash, a timeout), oldest first, to
    deposit again: entries batches, and the initial connection's reference batch when its
    items are kept."""
    return connection.execute(_UNCONFIRMED, {"folder": folder}).all()


def _release_lease(connection: Connection, folder: str, lease: _Lease) -> None:
    # Only our own lease: had it been taken over meanwhile, the lease is another sync's.
    connection.execute(_RELEASE_LEASE, {"b_folder": folder, "holder": lease.holder})


def _apply_results(
    connection: Connection, folder: str, results: Sequence[IncomingResult], now: datetime
) -> ResultsReport:
    # Reference data (initial connection) names an item, not an entry revision to settle.
    taken = [r for r in results if r.item is not None and r.result.get("status") == "accepted"]
    refused = [r for r in results if r.item is not None and r.result.get("status") != "accepted"]
    reference = _not_yet_recorded(connection, folder, refused)
    expected = [result for result in reference if result.expected]
    answers = [result for result in results if result.item is None]
    # The ledger has these items now: an earlier refusal of any of them is settled.
    _settle_reference(connection, folder, [r.item for r in [*taken, *expected] if r.item], now)
    if reference:
        connection.execute(
            rejections.insert(),
            [
                {
                    "client": folder,
                    "entry_id": None,
                    "revision": None,
                    "item": result.item,
                    "code": result.result.get("code"),
                    "message": result.result.get("message") or "",
                    "at": now,
                    "expected": result.expected,
                    "batch_id": result.batch_id,
                }
                for result in reference
            ],
        )
    current = _synchronizing(connection, folder, sorted({answer.batch_id for answer in answers}))
    posted: list[tuple[str, int | None, str | None]] = []
    failed: list[tuple[str, int, str | None, str | None, str, str]] = []
    posted_changes: list[Change] = []
    failed_changes: list[Change] = []
    ignored = 0
    for answer in answers:
        entry_id, revision = parse_entry_key(answer.key, folder)
        result = answer.result
        # The answer settles the entry only if the entry still waits for it: the same
        # revision, in the same batch. A result delivered again (its acknowledgement lost)
        # finds the entry settled, or sent again in a later batch, and changes nothing.
        if current.get(entry_id) != (revision, answer.batch_id):
            ignored += 1
            continue
        del current[entry_id]  # settled now: the same answer twice in one delivery counts once
        if result["status"] == "accepted":
            number = result.get("entry_number")
            posted.append((entry_id, number, result.get("fiscal_year")))
            note = f"posted as entry {number} of fiscal year {result.get('fiscal_year')}"
            if result.get("replay"):
                note += " (the ledger had it already: replay)"
            posted_changes.append(
                Change(entry_id, revision, Status.SYNCHRONIZING, Status.SYNCHRONIZED, note)
            )
        else:
            failed.append(
                (
                    entry_id,
                    revision,
                    result.get("code"),
                    result.get("message"),
                    json.dumps(result.get("findings") or [], ensure_ascii=False),
                    answer.batch_id,
                )
            )
            failed_changes.append(
                Change(
                    entry_id,
                    revision,
                    Status.SYNCHRONIZING,
                    Status.SYNC_FAILED,
                    result.get("message"),
                )
            )
    synchronized, sync_failed = Status.SYNCHRONIZED.value, Status.SYNC_FAILED.value
    history = History(connection, folder, "ledger", now)
    posted_items = history.items(posted_changes)
    failed_items = history.items(failed_changes)
    update_rows(
        connection,
        entries,
        "entry_id",
        ("entry_number", "fiscal_year"),
        [
            (entry_id, number, year, item)
            for (entry_id, number, year), item in zip(posted, posted_items, strict=True)
        ],
        fixed={
            "status": synchronized,
            "code": None,
            "message": None,
            "findings": None,
            "updated_at": now,
        },
        where={"client": folder},
        appended=("history",),
    )
    update_rows(
        connection,
        entries,
        "entry_id",
        ("code", "message", "findings"),
        [
            (entry_id, code, message, findings, item)
            for (entry_id, _, code, message, findings, _), item in zip(
                failed, failed_items, strict=True
            )
        ],
        fixed={"status": sync_failed, "updated_at": now},
        where={"client": folder},
        appended=("history",),
    )
    insert_rows(
        connection,
        rejections,
        ("client", "entry_id", "revision", "item", "code", "message", "at", "expected", "batch_id"),
        [
            (folder, entry_id, revision, None, code, message or "", now, False, batch_id)
            for entry_id, revision, code, message, _, batch_id in failed
        ],
    )
    return ResultsReport(
        folder,
        synchronized=len(posted),
        failed=len(failed),
        expected_rejections=len(expected),
        ignored=ignored,
    )


def _settle_reference(
    connection: Connection, folder: str, items: Sequence[str], now: datetime
) -> None:
    for start in range(0, len(items), ID_CHUNK):
        connection.execute(
            rejections.update()
            .where(
                rejections.c.client == folder,
                rejections.c.item.in_(items[start : start + ID_CHUNK]),
                rejections.c.expected.is_(False),
                rejections.c.settled_at.is_(None),
            )
            .values(settled_at=now)
        )


def _synchronizing(
    connection: Connection, folder: str, batch_ids: Sequence[str]
) -> dict[str, tuple[int, str | None]]:
    """Revision and batch of the entries of these batches that wait for a result, locked
    until the transaction ends so that two deliveries of the same results cannot both apply
    them."""
    rows = select_where_in(
        connection,
        entries,
        ("entry_id", "revision", "batch_id"),
        {"client": folder, "status": Status.SYNCHRONIZING.value},
        "batch_id",
        batch_ids,
        chunk=ID_CHUNK,
        lock=True,
        order_by="entry_id",  # one locking order: two deliveries never deadlock
    )
    return {entry_id: (revision, batch_id) for entry_id, revision, batch_id in rows}


# The statements a sync and a delivery of results run for each client, built once: a
# statement made anew costs more than running it (a tenth of a millisecond).
_CLIENT_LOCKED = (
    sa.select(clients).where(clients.c.folder == sa.bindparam("folder")).with_for_update()
)
_CLIENT_FOLDER = sa.select(clients.c.folder).where(clients.c.folder == sa.bindparam("folder"))
_TAKE_LEASE = (  # `b_`: an update's parameter may not be named as a column
    clients.update()
    .where(clients.c.folder == sa.bindparam("b_folder"))
    .values(sync_lease_until=sa.bindparam("until"), sync_lease_holder=sa.bindparam("holder"))
)
_RELEASE_LEASE = (
    clients.update()
    .where(
        clients.c.folder == sa.bindparam("b_folder"),
        clients.c.sync_lease_holder == sa.bindparam("holder"),
    )
    .values(sync_lease_until=None, sync_lease_holder=None)
)
# The entries of a batch still waiting for their result (id, revision, content, by id).
_IN_BATCH = (
    sa.select(entries.c.entry_id, entries.c.revision, revisions.c.content)
    .select_from(with_content)
    .where(
        entries.c.client == sa.bindparam("folder"),
        entries.c.status == Status.SYNCHRONIZING.value,
        entries.c.batch_id == sa.bindparam("batch"),
    )
    .order_by(entries.c.entry_id)
)
_NEW_OUTBOX_ROW = outbox.insert()
_DEPOSITED = (
    outbox.update()
    .where(outbox.c.batch_id == sa.bindparam("b_batch_id"))
    .values(deposited_at=sa.bindparam("at"))
)
_UNCONFIRMED = (
    sa.select(outbox.c.batch_id, outbox.c.kind, outbox.c.content)
    .where(
        outbox.c.client == sa.bindparam("folder"),
        outbox.c.deposited_at.is_(None),
        sa.or_(outbox.c.kind == "entries", outbox.c.content.is_not(None)),
    )
    .order_by(outbox.c.created_at)
)


def _not_yet_recorded(
    connection: Connection, folder: str, reference: Sequence[IncomingResult]
) -> list[IncomingResult]:
    """The rejections of reference data not already in the Rejections tab.

    They name no entry revision to settle; a delivery repeated after a lost acknowledgement
    would list each twice. An item's rejection is kept once per batch: the same item
    rejected again in a later batch (the client connected again) is a rejection of its own.
    """
    if not reference:
        return []
    batch_ids = sorted({result.batch_id for result in reference})
    seen: set[tuple[str | None, str | None]] = set()
    for start in range(0, len(batch_ids), ID_CHUNK):
        rows = connection.execute(
            sa.select(rejections.c.batch_id, rejections.c.item).where(
                rejections.c.client == folder,
                rejections.c.item.is_not(None),
                rejections.c.batch_id.in_(batch_ids[start : start + ID_CHUNK]),
            )
        )
        seen.update((row.batch_id, row.item) for row in rows)
    fresh = []
    for result in reference:
        signature = (result.batch_id, result.item)
        if signature not in seen:
            seen.add(signature)
            fresh.append(result)
    return fresh
