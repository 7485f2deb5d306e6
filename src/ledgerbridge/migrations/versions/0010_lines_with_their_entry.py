"""A posted entry's lines kept in its own row, as JSON, instead of two tables of their own.

Posting stored an entry as its row, a row per line and a row per analytic allocation, each
line and allocation with a key and a foreign key to check. The lines now go with their entry,
in the column `ledger_entries.lines`, as `domain.entries.lines_json` writes them (the §4.2
lines, absent fields left out, amounts as decimal strings with 2 places): one row per entry,
stored on SQLite in about half the time.

Each posted entry's column is filled from its lines and allocations, read back as the line
values they were posted from and written by `lines_json`, so that it holds exactly what
posting writes now; the two tables then go, with their triggers and foreign keys. Filling
the column changes posted entries, which the immutability triggers refuse: on PostgreSQL the
row trigger is dropped meanwhile, in the migration's transaction, which keeps the table
locked, and made again as 0001_ledger made it. SQLite cannot make a column NOT NULL in
place: the entries' table is made anew with the column, filled from the old one, and takes
its place; its triggers, gone with the old table, are made again. The downgrade makes the
two tables again (on SQLite without a rowid, as 0006 left them) from the column, then drops
it.

Revision ID: 0010_lines_with_their_entry
Revises: 0009_rejection_batch
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection

from ledgerbridge.domain.entries import Allocation, Line, lines_from_json, lines_json

revision: str = "0010_lines_with_their_entry"
down_revision: str | Sequence[str] | None = "0009_rejection_batch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = (
    "posted entries are immutable: {table} rows are never updated or deleted;"
    " post a reversing entry instead"
)
ENTRY_COLUMNS = (
    "id, folder_id, fiscal_year, number, key, fingerprint, entry_id, journal, date,"
    " reference, label, posted_at"
)
PostedEntryKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAGE_SIZE = 1000  # entries read, and written back, at a time


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.add_column("ledger_entries", sa.Column("lines", sa.Text, nullable=True))
        op.execute("DROP TRIGGER ledger_entries_immutable ON ledger_entries")
        fill = sa.text("UPDATE ledger_entries SET lines = :lines WHERE id = :id")
        for page in _lines_of_entries(connection):
            connection.execute(fill, page)
        op.alter_column("ledger_entries", "lines", existing_type=sa.Text, nullable=False)
        op.execute(
            "CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries"
            " FOR EACH ROW EXECUTE FUNCTION ledger_refuse_changing_posted()"
        )
    else:
        _entries_table("ledger_entries_new")
        fill = sa.text(
            f"INSERT INTO ledger_entries_new ({ENTRY_COLUMNS}, lines)"
            f" SELECT {ENTRY_COLUMNS}, :lines FROM ledger_entries WHERE id = :id"
        )
        for page in _lines_of_entries(connection):
            connection.execute(fill, page)
    # Allocations reference lines, lines reference entries: dropped in that order.
    op.drop_table("ledger_allocations")
    op.drop_table("ledger_lines")
    if connection.dialect.name == "sqlite":
        op.drop_table("ledger_entries")
        op.rename_table("ledger_entries_new", "ledger_entries")
        _sqlite_immutability("ledger_entries")


def downgrade() -> None:
    connection = op.get_bind()
    postgresql = connection.dialect.name == "postgresql"
    _lines_tables()
    insert_lines = sa.text(
        "INSERT INTO ledger_lines (entry, line, account, auxiliary, label, debit, credit)"
        " VALUES (:entry, :line, :account, :auxiliary, :label, :debit, :credit)"
    )
    insert_allocations = sa.text(
        "INSERT INTO ledger_allocations (entry, line, position, axis, section, amount)"
        " VALUES (:entry, :line, :position, :axis, :section, :amount)"
    )
    for lines, allocations in _rows_of_lines(connection):
        if lines:
            connection.execute(insert_lines, lines)
        if allocations:
            connection.execute(insert_allocations, allocations)
    # Dropping a column updates no row: the triggers on the entries stay as they are.
    op.execute("ALTER TABLE ledger_entries DROP COLUMN lines")
    for table in ("ledger_lines", "ledger_allocations"):
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION ledger_refuse_changing_posted()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_changing_posted()"
            )
        else:
            _sqlite_immutability(table)


def _entry_pages(connection: Connection) -> Iterator[list[int]]:
    """The ids of every posted entry, in order, a page at a time."""
    first = sa.text("SELECT id FROM ledger_entries ORDER BY id LIMIT :size")
    following = sa.text("SELECT id FROM ledger_entries WHERE id > :after ORDER BY id LIMIT :size")
    ids = list(connection.execute(first, {"size": PAGE_SIZE}).scalars())
    while ids:
        yield ids
        ids = list(connection.execute(following, {"after": ids[-1], "size": PAGE_SIZE}).scalars())


def _amount(cents: int) -> Decimal:
    """Integer cents as the amount a document writes: 12050 -> Decimal('120.50')."""
    return Decimal(cents).scaleb(-2)


def _lines_of_entries(connection: Connection) -> Iterator[list[dict[str, Any]]]:
    """Each posted entry's id and its lines as `lines_json` writes them, a page at a time."""
    for ids in _entry_pages(connection):
        between = {"first": ids[0], "last": ids[-1]}
        allocations: defaultdict[tuple[int, int], list[Allocation]] = defaultdict(list)
        for row in connection.execute(
            sa.text(
                "SELECT entry, line, axis, section, amount FROM ledger_allocations"
                " WHERE entry BETWEEN :first AND :last ORDER BY entry, line, position"
            ),
            between,
        ):
            allocations[row.entry, row.line].append(
                Allocation(axis=row.axis, section=row.section, amount=_amount(row.amount))
            )
        lines: defaultdict[int, list[Line]] = defaultdict(list)
        for row in connection.execute(
            sa.text(
                "SELECT entry, line, account, auxiliary, label, debit, credit FROM ledger_lines"
                " WHERE entry BETWEEN :first AND :last ORDER BY entry, line"
            ),
            between,
        ):
            lines[row.entry].append(
                Line(
                    account=row.account,
                    auxiliary=row.auxiliary,
                    label=row.label,
                    debit=_amount(row.debit),
                    credit=_amount(row.credit),
                    analytics=allocations.get((row.entry, row.line)),
                )
            )
        yield [{"id": entry, "lines": lines_json(lines.get(entry))} for entry in ids]


def _cents(amount: Decimal | None) -> int:
    return int(amount.scaleb(2)) if amount else 0


def _rows_of_lines(
    connection: Connection,
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """The rows of the lines and allocations the column holds, a page of entries at a time."""
    for ids in _entry_pages(connection):
        lines: list[dict[str, Any]] = []
        allocations: list[dict[str, Any]] = []
        for entry, text in connection.execute(
            sa.text(
                "SELECT id, lines FROM ledger_entries WHERE id BETWEEN :first AND :last ORDER BY id"
            ),
            {"first": ids[0], "last": ids[-1]},
        ):
            for number, line in enumerate(lines_from_json(text), 1):
                lines.append(
                    {
                        "entry": entry,
                        "line": number,
                        "account": line.account,
                        "auxiliary": line.auxiliary,
                        "label": line.label,
                        "debit": _cents(line.debit),
                        "credit": _cents(line.credit),
                    }
                )
                for position, allocation in enumerate(line.analytics or (), 1):
                    allocations.append(
                        {
                            "entry": entry,
                            "line": number,
                            "position": position,
                            "axis": allocation.axis,
                            "section": allocation.section,
                            "amount": _cents(allocation.amount),
                        }
                    )
        yield lines, allocations


def _sqlite_immutability(table: str) -> None:
    message = REFUSAL.format(table=table).replace("'", "''")
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def _entries_table(name: str) -> None:
    """The entries' table as 0001_ledger made it, with the lines' column."""
    op.create_table(
        name,
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
        sa.UniqueConstraint("folder_id", "key", name="uq_ledger_entries_key"),
        sa.UniqueConstraint("folder_id", "fiscal_year", "number", name="uq_ledger_entries_number"),
    )


def _lines_tables() -> None:
    """The lines' and allocations' tables as 0001_ledger made them, on SQLite without a rowid
    as 0006 made them again."""
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
        sqlite_with_rowid=False,
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
        sqlite_with_rowid=False,
    )
