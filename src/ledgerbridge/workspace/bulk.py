"""Bulk inserts for the workspace's large writes (an import, its history): tuples to the driver.

SQLAlchemy's executemany with dicts costs about as much per row as the insert itself, and
an import of 100,000 entries writes 300,000 rows. Names come from the Core table, quoted
by the dialect; values go through the column types' own converters (aware times on
SQLite), each distinct value converted once, since a batch shares its timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

Converter = Callable[[Any], Any]


def _once_per_value(convert: Converter) -> Converter:
    converted: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        if value is None:
            return None
        try:
            return converted[value]
        except KeyError:
            result = converted[value] = convert(value)
            return result

    return run


def insert_rows(
    connection: Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """INSERT `rows` (tuples of values in the order of `columns`) into `table`."""
    if not rows:
        return
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)})"
        f" VALUES ({', '.join(marker for _ in columns)})"
    )
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    converters = [
        (position, _once_per_value(processor))
        for position, processor in enumerate(processors)
        if processor is not None
    ]
    if converters:
        converted: list[Sequence[Any]] = []
        for row in rows:
            values = list(row)
            for position, convert in converters:
                values[position] = convert(values[position])
            converted.append(values)
        rows = converted
    connection.exec_driver_sql(sql, [tuple(row) for row in rows])
