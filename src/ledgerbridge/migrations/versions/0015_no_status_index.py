"""A client's entries are no longer indexed by status.

Every lookup of entries by status is of one client's, which the primary key (client, entry
id) already narrows to that client's rows; the index on (client, status) saved reading the
client's other entries, but each change of status had to move the entry in it: on SQLite a
round trip (import, verify, sync, results) spent about a seventh of its time in the database
on that index. Without it, a client's entries of one status are read from its rows in the
primary key's order: for a client of 100,000 entries, a few tens of milliseconds.

Revision ID: 0015_no_status_index
Revises: 0014_ledger_entry_ids
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_no_status_index"
down_revision: str | Sequence[str] | None = "0014_ledger_entry_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_ws_entries_status"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="ws_entries")


def downgrade() -> None:
    op.create_index(INDEX, "ws_entries", ["client", "status"])
