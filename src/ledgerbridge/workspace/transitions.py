"""Status changes of workspace entries: checked against the lifecycle table, kept in the history."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.bulk import ensure_statistics, select_where_in, update_where_in
from ledgerbridge.domain.lifecycle import TRANSITIONS, Action, Status, moved_by, next_status
from ledgerbridge.workspace.tables import entries, history_events, revisions


class Change(msgspec.Struct, frozen=True, gc=False):
    """One line of an entry's history.

    A struct rather than a frozen dataclass: a status change makes one per entry, and a
    struct is made several times quicker (as domain.findings' results are)."""

    entry_id: str
    revision: int
    from_status: Status | None  # None when the entry was imported
    to_status: Status
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry_id,
            "revision": self.revision,
            "from": self.from_status.value if self.from_status else None,
            "to": self.to_status.value,
            "message": self.message,
        }


class History:
    """The history of one command's changes: by one actor, at one moment.

    Each distinct move (from, to) is one event of `history_events`, shared by every entry
    it moved; its message is the changes' own when they all say the same, or each entry's
    own in its item. Each change gets the item its entry's `history` column appends.
    """

    def __init__(self, connection: Connection, client: str, actor: str, at: datetime) -> None:
        self._connection = connection
        self._client = client
        self._actor = actor
        self.at = at
        self._events: dict[tuple[Status | None, Status, str | None], int] = {}

    def items(self, changes: Sequence[Change]) -> list[str]:
        """The history item of each change, in the order given, its event recorded."""
        moves: dict[tuple[Status | None, Status], set[str | None]] = {}
        for change in changes:
            moves.setdefault((change.from_status, change.to_status), set()).add(change.message)
        events: dict[tuple[Status | None, Status], tuple[int, bool]] = {}
        for (from_status, to_status), messages in moves.items():
            shared = len(messages) == 1
            message = next(iter(messages)) if shared else None
            events[from_status, to_status] = (self.event(from_status, to_status, message), shared)
        items = []
        for change in changes:
            event, shared = events[change.from_status, change.to_status]
            items.append(history_item(event, change.revision, None if shared else change.message))
        return items

    def shared_item(
        self, from_status: Status | None, to_status: Status, revision: int, message: str | None
    ) -> str:
        """The item of a move that entries at the same revision share, message and all."""
        return history_item(self.event(from_status, to_status, message), revision, None)

    def event(self, from_status: Status | None, to_status: Status, message: str | None) -> int:
        """The id of this move's event, recorded at its first use."""
        key = (from_status, to_status, message)
        if key not in self._events:
            inserted = self._connection.execute(
                _INSERT_EVENT,
                {
                    "client": self._client,
                    "at": self.at,
                    "actor": self._actor,
                    "from_status": STORED_STATUS[from_status],
                    "to_status": STORED_STATUS[to_status],
                    "message": message,
                },
            )
            assert inserted.inserted_primary_key is not None  # a single-row insert
            self._events[key] = int(inserted.inserted_primary_key[0])
        return self._events[key]


# Built once: a statement made anew costs more than running it (a tenth of a millisecond).
_INSERT_EVENT = history_events.insert()


def history_item(event: int, revision: int, message: str | None) -> str:
    """An item of an entry's `history` column: `[event id, revision, message or null],`
    (`move_all` writes the same in SQL)."""
    said = "null" if message is None else _JSON.encode(message).decode()
    return f"[{event},{revision},{said}],"


def history_of(column: str) -> list[tuple[int, int, str | None]]:
    """The items of an entry's `history` column: event id, revision, the entry's own message."""
    return _HISTORY.decode(f"[{column.removesuffix(',')}]")


_JSON = msgspec.json.Encoder()
_HISTORY = msgspec.json.Decoder(list[tuple[int, int, str | None]])


ID_CHUNK = 500  # ids per IN (...) list: well under every database's parameter limit
# A status by its stored value, without the enum's own lookup (a list reads thousands).
STATUS_OF: dict[str, Status] = {status.value: status for status in Status}
# And the value stored for a status (None for none), found quicker than by the enum's `value`.
STORED_STATUS: dict[Status | None, str | None] = {None: None} | {
    status: status.value for status in Status
}

# A status change reads the entry's status, then writes the next one. On PostgreSQL a
# concurrent sync (or edit) could change the status in between, and an edit would then turn
# an entry already on its way to the ledger back to to_verify: the rows read for a change
# are locked (FOR UPDATE, in id order). SQLite's writer holds the whole database already.


def current_states(
    connection: Connection, client: str, entry_ids: Sequence[str]
) -> dict[str, tuple[Status, int]]:
    """Status and revision of the named entries (those that exist), locked until the
    transaction ends, so that the move decided on them still holds when it is written."""
    if len(entry_ids) > ID_CHUNK:
        ensure_statistics(connection, entries)
    rows = select_where_in(
        connection,
        entries,
        ("entry_id", "status", "revision"),
        {"client": client},
        "entry_id",
        entry_ids,
        chunk=ID_CHUNK,
        lock=True,
    )
    return {entry_id: (STATUS_OF[status], revision) for entry_id, status, revision in rows}


def apply_action(
    connection: Connection,
    client: str,
    states: Mapping[str, tuple[Status, int]],
    action: Action,
    *,
    actor: str,
    at: datetime,
    message: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[Change]:
    """Move each entry by `action`, all or none: an illegal move refuses the whole command.

    `values` are further columns set on every moved entry (e.g. the batch id of a sync).
    """
    changes = [
        Change(
            entry_id,
            revision,
            status,
            next_status(entry_id, status, action, folder=client),
            message,
        )
        for entry_id, (status, revision) in states.items()
    ]
    # Entries moved to the same status, at the same revision, append the same item.
    by_item: dict[tuple[Status, str], list[str]] = {}
    items = History(connection, client, actor, at).items(changes)
    for change, item in zip(changes, items, strict=True):
        by_item.setdefault((change.to_status, item), []).append(change.entry_id)
    extra = dict(values or {})
    for (target, item), ids in by_item.items():
        update_where_in(
            connection,
            entries,
            {"status": STORED_STATUS[target], "updated_at": at, **extra},
            {"client": client},
            "entry_id",
            ids,
            chunk=ID_CHUNK,
            appended={"history": item},
        )
    return changes


def move_all(
    connection: Connection,
    client: str,
    action: Action,
    *,
    actor: str,
    at: datetime,
    message: str,
    source: Status | None = None,
    code: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> list[Change]:
    """Move by `action` every entry of the client in a status it moves from (in `source`
    alone, when given; rejected with `code`, when given): what `apply_action` does for
    entries named one by one, for all at once. `values`: further columns set on each.

    One statement per status moved from, and nothing read first: the statement writes each
    entry's history item itself (`history_item`, the message shared), with the entry's own
    revision. The changes, by id.
    """
    extra = dict(values or {})
    probe, move = _moving_statements(
        connection.dialect.name == "postgresql", code is not None, tuple(sorted(extra))
    )
    history = History(connection, client, actor, at)
    changes: list[Change] = []
    for moved_from in moved_by(action) if source is None else (source,):
        chosen = {"k_client": client, "k_status": moved_from.value, "k_code": code}
        if not connection.execute(probe, chosen).first():
            continue  # no event recorded for a move of no entry
        target = TRANSITIONS[moved_from, action]
        item_start = f"[{history.event(moved_from, target, message)},"
        moved = connection.execute(
            move,
            {
                **chosen,
                "k_to": target.value,
                "k_at": at,
                "k_item": item_start,
                **{f"k_{name}": value for name, value in extra.items()},
            },
        ).all()
        changes += [
            Change(entry_id, revision, moved_from, target, message) for entry_id, revision in moved
        ]
    changes.sort(key=_by_id)
    return changes


def _by_id(change: Change) -> str:
    return change.entry_id


@functools.cache
def _moving_statements(
    postgresql: bool, by_code: bool, columns: tuple[str, ...]
) -> tuple[sa.Select[Any], sa.Update]:
    """`move_all`'s statements, built once for each shape (a statement made anew costs more
    than running it): whether an entry is to move, and the move.

    On PostgreSQL the first locks every entry to move, in id order, as `current_states`
    locks them: a set-based update alone would lock them in the order it finds them, and
    two commands could then deadlock. Elsewhere it looks for one.
    """
    conditions = [
        entries.c.client == sa.bindparam("k_client"),
        entries.c.status == sa.bindparam("k_status"),
    ]
    if by_code:
        conditions.append(entries.c.code == sa.bindparam("k_code"))
    found = sa.select(entries.c.entry_id).where(*conditions)
    probe = found.order_by(entries.c.entry_id).with_for_update() if postgresql else found.limit(1)
    move = (
        entries.update()
        .where(*conditions)
        .values(
            status=sa.bindparam("k_to"),
            updated_at=sa.bindparam("k_at"),
            history=entries.c.history
            + sa.bindparam("k_item", type_=sa.String)
            + sa.cast(entries.c.revision, sa.String)
            + ",null],",
            **{name: sa.bindparam(f"k_{name}") for name in columns},
        )
        .returning(entries.c.entry_id, entries.c.revision)
    )
    return probe, move


@dataclass(frozen=True, slots=True)
class NewRevision:
    """New content for an entry: it becomes revision `revision`, back to to_verify."""

    entry_id: str
    status: Status  # the entry's status before
    revision: int
    content: str  # the §4.2 entry document, JSON
    fingerprint: str
    # Further columns of the new revision (its pre-flight verdict, say); the same keys for all.
    values: Mapping[str, Any] | None = None


def revise(
    connection: Connection,
    client: str,
    new_revisions: Sequence[NewRevision],
    *,
    history: History,
    note: str,
) -> list[Change]:
    """Store new revisions and move their entries back to to_verify, all or none, at the
    time of `history`, which records their moves.

    An edit is a transition of the lifecycle like any other: an entry that cannot be
    edited (synchronizing, synchronized, excluded) refuses the whole command. The
    history line says `{note}: revision N`; the ledger's verdict on the previous revision
    (code, message, findings) is cleared, it belonged to that revision.
    """
    changes = [
        Change(
            item.entry_id,
            item.revision,
            item.status,
            next_status(item.entry_id, item.status, Action.EDIT, folder=client),
            f"{note}: revision {item.revision}",
        )
        for item in new_revisions
    ]
    if not changes:
        return changes
    extra = sorted((new_revisions[0].values or {}).keys())
    connection.execute(
        entries.update()
        .where(entries.c.client == client, entries.c.entry_id == sa.bindparam("k_id"))
        .values(
            revision=sa.bindparam("k_revision"),
            status=Status.TO_VERIFY.value,
            fingerprint=sa.bindparam("k_fingerprint"),
            updated_at=history.at,
            code=None,
            message=None,
            findings=None,
            history=entries.c.history + sa.bindparam("k_history"),
            **{name: sa.bindparam(f"k_{name}") for name in extra},
        ),
        [
            {
                "k_id": item.entry_id,
                "k_revision": item.revision,
                "k_fingerprint": item.fingerprint,
                "k_history": appended,
                **{f"k_{name}": (item.values or {})[name] for name in extra},
            }
            for item, appended in zip(new_revisions, history.items(changes), strict=True)
        ],
    )
    connection.execute(
        revisions.insert(),
        [
            {
                "client": client,
                "entry_id": item.entry_id,
                "revision": item.revision,
                "content": item.content,
                "created_at": history.at,
            }
            for item in new_revisions
        ],
    )
    return changes
