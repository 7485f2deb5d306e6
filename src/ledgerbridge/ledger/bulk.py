"""Bulk inserts for the posting path: one driver executemany of row tuples per table and chunk.

SQLAlchemy's executemany with dicts costs about as much per row as the insert itself; a
batch of 300,000 lines spends most of its time there. The statement is still built from
the Core table (names quoted by the dialect) and values go through the column types'
own converters where the dialect has one (dates on SQLite).
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
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)})"
            f" VALUES ({', '.join(marker for _ in columns)})"
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
        if rows:
            self.connection.exec_driver_sql(self.sql, list(rows))


def _as_is(value: Any) -> Any:
    return value
