"""An entry's history as events shared by the entries they moved, listed in the entry's row.

Each status change wrote a row of `ws_history` per entry: a verify, sync and result of
100,000 entries wrote 400,000 rows and their index. A command's change is now one event of
`ws_history_events` per move (from, to) it made, and each entry lists its events in its
own row, in the new column `ws_entries.history`: items `[event id, revision, message or
null],` in order, appended by the statement that changes the entry's status anyway.

Each row of `ws_history` becomes an event of its own (same id, so the order stays), its
message with it, and its entry's item `[id, revision, null],`. The downgrade makes
`ws_history` again from the events and the items: a row per item, in event order.

Revision ID: 0011_history_events
Revises: 0010_lines_with_their_entry
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection

revision: str = "0011_history_events"
down_revision: str | Sequence[str] | None = "0010_lines_with_their_entry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0003_workspace: the tables as they stand at this revision, not workspace/tables.py.
Moment = sa.DateTime(timezone=True)
PAGE_SIZE = 5000  # entries written at a time
EVENT_COLUMNS = "id, client, at, actor, from_status, to_status, message"


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "ws_history_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("from_status", sa.String, nullable=True),
        sa.Column("to_status", sa.String, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.add_column("ws_entries", sa.Column("history", sa.Text, nullable=False, server_default=""))
    connection.execute(
        sa.text(
            f"INSERT INTO ws_history_events ({EVENT_COLUMNS})"
            f" SELECT {EVENT_COLUMNS} FROM ws_history ORDER BY id"
        )
    )
    if connection.dialect.name == "postgresql":
        # Rows given their ids: the next event's id follows them.
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('ws_history_events', 'id'),"
                " coalesce(max(id), 0) + 1, false) FROM ws_history_events"
            )
        )
    rows = connection.execute(
        sa.text(
            "SELECT client, entry_id, id, revision FROM ws_history ORDER BY client, entry_id, id"
        )
    )
    fill = sa.text(
        "UPDATE ws_entries SET history = :k_history WHERE client = :k_client AND entry_id = :k_entry"
    )
    page: list[dict[str, Any]] = []
    for (client, entry_id), lines in groupby(rows, key=lambda row: (row[0], row[1])):
        items = "".join(f"[{event},{revision},null]," for _, _, event, revision in lines)
        page.append({"k_client": client, "k_entry": entry_id, "k_history": items})
        if len(page) == PAGE_SIZE:
            connection.execute(fill, page)
            page = []
    if page:
        connection.execute(fill, page)
    op.drop_index("ix_ws_history_entry", table_name="ws_history")
    op.drop_table("ws_history")


def downgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "ws_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String, nullable=False),
        sa.Column("entry_id", sa.String, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("from_status", sa.String, nullable=True),
        sa.Column("to_status", sa.String, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_index("ix_ws_history_entry", "ws_history", ["client", "entry_id"])
    events = {
        row[0]: row[1:]
        for row in connection.execute(
            sa.text("SELECT id, at, actor, from_status, to_status, message FROM ws_history_events")
        )
    }
    lines = sorted(_lines(connection), key=lambda line: (line[0], line[1], line[2]))
    rows = [
        {
            "client": client,
            "entry_id": entry_id,
            "revision": revision,
            "at": events[event][0],
            "actor": events[event][1],
            "from_status": events[event][2],
            "to_status": events[event][3],
            "message": events[event][4] if own is None else own,
        }
        for event, client, entry_id, revision, own in lines
    ]
    for start in range(0, len(rows), PAGE_SIZE):
        connection.execute(
            sa.text(
                "INSERT INTO ws_history"
                " (client, entry_id, revision, at, actor, from_status, to_status, message)"
                " VALUES (:client, :entry_id, :revision, :at, :actor, :from_status, :to_status,"
                " :message)"
            ),
            rows[start : start + PAGE_SIZE],
        )
    op.drop_table("ws_history_events")
    op.execute("ALTER TABLE ws_entries DROP COLUMN history")


def _lines(connection: Connection) -> Iterator[tuple[Any, ...]]:
    """(event, client, entry, revision, the entry's own message) for every history item."""
    for client, entry_id, column in connection.execute(
        sa.text("SELECT client, entry_id, history FROM ws_entries")
    ):
        for event, revision, own in json.loads(f"[{column.removesuffix(',')}]"):
            yield event, client, entry_id, revision, own
