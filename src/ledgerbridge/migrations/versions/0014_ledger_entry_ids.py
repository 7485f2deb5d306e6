"""A posted entry is known by its id in its folder, whatever key it came with.

A direct `ledger post` keys an entry by its id; the workspace keys it by client, id and
revision. Unique by key, the same entry sent both ways was posted twice. The ledger now looks
posted entries up by id, in an index on (folder, id), and holds each id once per folder (the
posting checks it, under the folder's lock); the key stays with each entry as it came, no
longer unique: the index on it goes. Entries posted twice before stay as they are: posted
entries never change, which is also why no unique index can be asked of the id.

On SQLite a table's constraint cannot be dropped: the table is made again without it, its
rows copied, and its immutability triggers made again. The downgrade makes the key unique
again (refused where an id was posted twice under one key, which cannot happen).

Revision ID: 0014_ledger_entry_ids
Revises: 0013_rejection_settled
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_ledger_entry_ids"
down_revision: str | Sequence[str] | None = "0013_rejection_settled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = (
    "posted entries are immutable: {table} rows are never updated or deleted;"
    " post a reversing entry instead"
)
COLUMNS = (
    "id, folder_id, fiscal_year, number, key, fingerprint, entry_id, journal, date,"
    " reference, label, posted_at, lines"
)
PostedEntryKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEX = "ix_ledger_entries_entry_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("uq_ledger_entries_key", "ledger_entries", type_="unique")
    else:
        _sqlite_remade(unique_key=False)
    op.create_index(INDEX, "ledger_entries", ["folder_id", "entry_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="ledger_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint("uq_ledger_entries_key", "ledger_entries", ["folder_id", "key"])
    else:
        _sqlite_remade(unique_key=True)


def _sqlite_remade(*, unique_key: bool) -> None:
    """The entries' table made again, with or without its key unique, its rows kept."""
    keys = (sa.UniqueConstraint("folder_id", "key", name="uq_ledger_entries_key"),)
    op.create_table(
        "ledger_entries_new",
        sa.Column("id", PostedEntryKey, primary_key=True, autoincrement=True),
        sa.Column("folder_id", sa.Integer, sa.ForeignKey("ledger_folders.id"), nullable=False),
        sa.Column("fiscal_year", sa.String, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String, nullable=False),
        sa.Column("journal", sa.String, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("reference", sa.String, nullable=True),
        sa.Column("label", sa.String, nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Text, nullable=False),
        *(keys if unique_key else ()),
        sa.UniqueConstraint("folder_id", "fiscal_year", "number", name="uq_ledger_entries_number"),
    )
    op.execute(f"INSERT INTO ledger_entries_new ({COLUMNS}) SELECT {COLUMNS} FROM ledger_entries")
    op.drop_table("ledger_entries")  # its triggers go with it
    op.rename_table("ledger_entries_new", "ledger_entries")
    message = REFUSAL.format(table="ledger_entries").replace("'", "''")
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER ledger_entries_no_{action.lower()} BEFORE {action} ON ledger_entries"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
