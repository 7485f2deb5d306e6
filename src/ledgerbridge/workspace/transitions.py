"""Status changes of workspace entries: checked against the lifecycle table, kept in the history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.domain.lifecycle import Action, Status, next_status
from ledgerbridge.workspace.tables import entries, history


@dataclass(frozen=True, slots=True)
class Change:
    """One line of an entry's history."""

    entry_id: str
    revision: int
    from_status: Status | None  # None when the entry was imported
    to_status: Status
    message: str | None = None


def record_history(
    connection: Connection, client: str, changes: Sequence[Change], actor: str, at: datetime
) -> None:
    if not changes:
        return
    connection.execute(
        history.insert(),
        [
            {
                "client": client,
                "entry_id": change.entry_id,
                "revision": change.revision,
                "at": at,
                "actor": actor,
                "from_status": change.from_status.value if change.from_status else None,
                "to_status": change.to_status.value,
                "message": change.message,
            }
            for change in changes
        ],
    )


def current_states(
    connection: Connection, client: str, entry_ids: Sequence[str]
) -> dict[str, tuple[Status, int]]:
    """Status and revision of the named entries (those that exist)."""
    found: dict[str, tuple[Status, int]] = {}
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start : start + 500]
        rows = connection.execute(
            sa.select(entries.c.entry_id, entries.c.status, entries.c.revision).where(
                entries.c.client == client, entries.c.entry_id.in_(chunk)
            )
        )
        for entry_id, status, revision in rows:
            found[entry_id] = (Status(status), revision)
    return found


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
        Change(entry_id, revision, status, next_status(entry_id, status, action), message)
        for entry_id, (status, revision) in states.items()
    ]
    by_target: dict[Status, list[str]] = {}
    for change in changes:
        by_target.setdefault(change.to_status, []).append(change.entry_id)
    for target, ids in by_target.items():
        for start in range(0, len(ids), 500):
            connection.execute(
                entries.update()
                .where(entries.c.client == client, entries.c.entry_id.in_(ids[start : start + 500]))
                .values(status=target.value, updated_at=at, **(values or {}))
            )
    record_history(connection, client, changes, actor, at)
    return changes
