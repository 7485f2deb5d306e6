"""Bulk inserts for the posting path: one driver-level bulk insert per table and chunk.

SQLAlchemy's executemany with dicts costs about as much per row as the insert itself; a
batch of 300,000 lines spends most of its time there. Rows go to the driver as tuples
instead: SQLite's executemany, PostgreSQL's COPY (several times faster than its
executemany). Names come from the Core table, quoted by the dialect, and values go
through the column types' own converters where the dialect has one (dates on SQLite).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

Converter = Callable[[Any], Any]


class BulkInsert:
    """An INSERT into `columns` of `table`, for rows given as tuples in that order."""

    def __init__(self, connection: Connection, table: sa.Table, columns: Sequence[str]) -> None:
        dialect = connection.dialect
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(quote(name) for name in columns)
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({names})"
            f" VALUES ({', '.join(marker for _ in columns)})"
        )
        self.copy = (
            f"COPY {quote(table.name)} ({names}) FROM STDIN"
            if dialect.name == "postgresql"
            else None
        )
        self.connection = connection
        self._converters: dict[str, Converter | None] = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns
        }

    def converter(self, column: str) -> Converter:
        """How a value of `column` is handed to the driver (as is, unless the type says otherwise)."""
        return self._converters[column] or _as_is

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.copy is None:
            self.connection.exec_driver_sql(self.sql, list(rows))
            return
        # psycopg's own connection, in the transaction SQLAlchemy has begun on it.
        driver_connection = self.connection.connection.driver_connection
        assert driver_connection is not None  # the connection is open: it is in a transaction
        with driver_connection.cursor() as cursor, cursor.copy(self.copy) as copy:
            for row in rows:
                copy.write_row(row)


def _as_is(value: Any) -> Any:
    return value
