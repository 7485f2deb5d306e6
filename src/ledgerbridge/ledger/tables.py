"""The ledger's tables (SQLAlchemy Core), as migrations 0001_ledger and 0010 make them.

Dates are DATE. A posted entry is one row, its lines with it (JSON, amounts as decimal
strings of cents); it is never updated nor deleted: database triggers refuse it.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite numbers rows itself only for a column declared exactly INTEGER PRIMARY KEY.
PostedEntryKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

folders = sa.Table(
    "ledger_folders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String, nullable=False, unique=True),
    # The §4.1 document as applied, so the folder's setup reads back exactly.
    sa.Column("setup", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

entry_counters = sa.Table(
    "ledger_entry_counters",
    metadata,
    sa.Column("folder_id", sa.Integer, sa.ForeignKey("ledger_folders.id"), primary_key=True),
    sa.Column("fiscal_year", sa.String, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False),
)

posted_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", PostedEntryKey, primary_key=True, autoincrement=True),
    sa.Column("folder_id", sa.Integer, sa.ForeignKey("ledger_folders.id"), nullable=False),
    sa.Column("fiscal_year", sa.String, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("key", sa.String, nullable=False),  # the idempotency key it came with
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("entry_id", sa.String, nullable=False),
    sa.Column("journal", sa.String, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("reference", sa.String, nullable=True),
    sa.Column("label", sa.String, nullable=True),
    sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    # The entry's lines and their analytic allocations, as `domain.entries.lines_json`
    # writes them (migration 0010): kept with the entry they belong to, written and read
    # with it, in one row.
    sa.Column("lines", sa.Text, nullable=False),
    sa.UniqueConstraint("folder_id", "fiscal_year", "number", name="uq_ledger_entries_number"),
    # An entry is posted once per folder, whatever is resent and whatever key it comes with:
    # looked up by its id (migration 0014), which the posting holds once per folder.
    sa.Index("ix_ledger_entries_entry_id", "folder_id", "entry_id"),
)

IMMUTABLE_TABLES = ("ledger_entries",)
