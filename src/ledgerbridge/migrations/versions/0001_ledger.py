"""The ledger: folders, entry counters, posted entries, lines and allocations.

Posted entries, lines and allocations are immutable: triggers refuse any UPDATE or
DELETE (and TRUNCATE on PostgreSQL). A correction is a new, reversing entry.

Revision ID: 0001_ledger
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("ledger",)
depends_on: str | Sequence[str] | None = None

IMMUTABLE_TABLES = ("ledger_entries", "ledger_lines", "ledger_allocations")
REFUSAL = (
    "posted entries are immutable: {table} rows are never updated or deleted;"
    " post a reversing entry instead"
)
PostedEntryKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_folders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String, nullable=False, unique=True),
        sa.Column("setup", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_entry_counters",
        sa.Column("folder_id", sa.Integer, sa.ForeignKey("ledger_folders.id"), primary_key=True),
        sa.Column("fiscal_year", sa.String, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "ledger_entries",
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
        sa.UniqueConstraint("folder_id", "key", name="uq_ledger_entries_key"),
        sa.UniqueConstraint("folder_id", "fiscal_year", "number", name="uq_ledger_entries_number"),
    )
    op.create_table(
        "ledger_lines",
        sa.Column("entry", PostedEntryKey, sa.ForeignKey("ledger_entries.id"), primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("account", sa.String, nullable=False),
        sa.Column("auxiliary", sa.String, nullable=True),
        sa.Column("label", sa.String, nullable=True),
        sa.Column("debit", sa.BigInteger, nullable=False),
        sa.Column("credit", sa.BigInteger, nullable=False),
        sa.CheckConstraint("debit >= 0 AND credit >= 0", name="ck_ledger_lines_amounts"),
    )
    op.create_table(
        "ledger_allocations",
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
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_immutability()
    else:
        _sqlite_immutability()


def _sqlite_immutability() -> None:
    for table in IMMUTABLE_TABLES:
        message = REFUSAL.format(table=table).replace("'", "''")
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def _postgresql_immutability() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_changing_posted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION
                'posted entries are immutable: % rows are never updated or deleted; post a reversing entry instead',
                TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    for table in IMMUTABLE_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION ledger_refuse_changing_posted()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_changing_posted()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION ledger_refuse_changing_posted()")
    else:
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
    for table in (
        "ledger_allocations",
        "ledger_lines",
        "ledger_entries",
        "ledger_entry_counters",
        "ledger_folders",
    ):
        op.drop_table(table)
