"""The ledger's tables (SQLAlchemy Core), as migrations 0001_ledger and 0006 make them.

Money is integer cents (BIGINT), dates are DATE. Posted entries, their lines and their
allocations are never updated nor deleted: database triggers refuse it.
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
    sa.Column("key", sa.String, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("entry_id", sa.String, nullable=False),
    sa.Column("journal", sa.String, nullable=False),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("reference", sa.String, nullable=True),
    sa.Column("label", sa.String, nullable=True),
    sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    # The idempotency key: an entry is posted once per folder, whatever is resent.
    sa.UniqueConstraint("folder_id", "key", name="uq_ledger_entries_key"),
    sa.UniqueConstraint("folder_id", "fiscal_year", "number", name="uq_ledger_entries_number"),
)

posted_lines = sa.Table(
    "ledger_lines",
    metadata,
    sa.Column("entry", PostedEntryKey, sa.ForeignKey("ledger_entries.id"), primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("account", sa.String, nullable=False),
    sa.Column("auxiliary", sa.String, nullable=True),
    sa.Column("label", sa.String, nullable=True),
    sa.Column("debit", sa.BigInteger, nullable=False),
    sa.Column("credit", sa.BigInteger, nullable=False),
    sa.CheckConstraint("debit >= 0 AND credit >= 0", name="ck_ledger_lines_amounts"),
    sqlite_with_rowid=False,  # migration 0006: a line written once, in its key's order
)

posted_allocations = sa.Table(
    "ledger_allocations",
    metadata,
    sa.Column("entry", PostedEntryKey, primary_key=True),
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("axis", sa.String, nullable=False),
    sa.Column("section", sa.String, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(
        ["entry", "line"],
        ["ledger_lines.entry", "ledger_lines.line"],
        name="fk_ledger_allocations_line",
    ),
    sqlite_with_rowid=False,
)

IMMUTABLE_TABLES = ("ledger_entries", "ledger_lines", "ledger_allocations")
