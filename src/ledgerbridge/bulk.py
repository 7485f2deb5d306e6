"""Bulk writes for the large ones (a posting, an import, the results applied to entries), and
reads of many rows that share a few values.

SQLAlchemy's executemany with dicts costs about as much per row as the write itself, and
a batch of 100,000 entries writes several hundred thousand rows. Rows go to the driver as
tuples instead: inserts by SQLite's executemany, or on PostgreSQL by COPY (several times
faster than its executemany); updates of rows that each have values of their own, joined to
a list of those values, 500 rows a statement. Reads of rows by a list of keys write the
list's markers once. Names come from the Core table, quoted by the dialect; values go
through the column types' own converters where the dialect has one (dates and aware times on
SQLite), each distinct value converted once, since a batch shares its days and timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection

Converter = Callable[[Any], Any]
T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter), for writes of bounded size."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _as_is(value: Any) -> Any:
    return value


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


def raw(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """`column` in a select, its value left as the driver gives it (see `read_converter`)."""
    return sa.type_coerce(column, sa.types.NullType()).label(column.key)


def read_converter(connection: Connection, column: sa.ColumnElement[Any]) -> Converter:
    """What `column`'s type makes of a value the driver gives, each distinct value converted
    once: the rows of a large read often share a time (a batch's results, say), and its
    type's conversion (text to an aware datetime on SQLite) costs more than the lookup."""
    dialect = connection.dialect
    convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return _as_is if convert is None else _once_per_value(convert)


class _Statement:
    """Columns of a table, their converters, and the dialect's way of writing parameters."""

    def __init__(self, connection: Connection, table: sa.Table, columns: Sequence[str]) -> None:
        dialect = connection.dialect
        self.connection = connection
        self.quote = dialect.identifier_preparer.quote
        self.marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self.table = self.quote(table.name)
        self.columns = list(columns)
        self._converters: list[Converter | None] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        ]

    def converter(self, column: str) -> Converter:
        """How a value of `column` is handed to the driver (as is, unless its type says)."""
        return self._converters[self.columns.index(column)] or _as_is

    def converted(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        converters = [
            (position, _once_per_value(convert))
            for position, convert in enumerate(self._converters)
            if convert is not None
        ]
        if not converters:
            return [tuple(row) for row in rows]
        result = []
        for row in rows:
            values = list(row)
            for position, convert in converters:
                values[position] = convert(values[position])
            result.append(tuple(values))
        return result


class BulkInsert(_Statement):
    """An INSERT into `columns` of `table`, for rows given as tuples in that order."""

    def __init__(self, connection: Connection, table: sa.Table, columns: Sequence[str]) -> None:
        super().__init__(connection, table, columns)
        names = ", ".join(self.quote(name) for name in columns)
        self.sql = (
            f"INSERT INTO {self.table} ({names}) VALUES ({', '.join(self.marker for _ in columns)})"
        )
        self.copy = (
            f"COPY {self.table} ({names}) FROM STDIN"
            if connection.dialect.name == "postgresql"
            else None
        )

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows whose values the driver takes as they are (see `converter`)."""
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


def insert_rows(
    connection: Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` (values in the order of `columns`, converted here) into `table`."""
    if rows:
        statement = BulkInsert(connection, table, columns)
        statement.insert(statement.converted(rows))


def _sets(statement: _Statement, columns: Iterable[str], appended: Iterable[str]) -> str:
    """`column = ?` for each of `columns`, `column = column || ?` for each of `appended`."""
    marker, quote = statement.marker, statement.quote
    return ", ".join(
        [
            *(f"{quote(name)} = {marker}" for name in columns),
            *(f"{quote(name)} = {quote(name)} || {marker}" for name in appended),
        ]
    )


_JOINED_ROWS = 500  # rows per joined update: their parameters well under every database's limit


def update_rows(
    connection: Connection,
    table: sa.Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    fixed: Mapping[str, Any],
    where: Mapping[str, Any],
    appended: Sequence[str] = (),
) -> None:
    """UPDATE, for each of `rows`, the row of `table` whose `key` is the row's first value
    (among those whose columns of `where` equal their values): its `columns` set to the
    row's next values, then text appended to each of `appended`; `fixed` columns set to
    their values on all. Each key comes once.

    The rows are joined to the table, many in one statement (UPDATE ... FROM VALUES),
    rather than one statement each: the driver's executemany costs about as much per row as
    the update itself.
    """
    if not rows:
        return
    shared = _Statement(connection, table, [*fixed, *where])
    given = _Statement(connection, table, [key, *columns, *appended])
    marker, quote, target = shared.marker, shared.quote, shared.table
    [shared_values] = shared.converted([(*fixed.values(), *where.values())])
    set_values, where_values = shared_values[: len(fixed)], shared_values[len(fixed) :]
    names = [key, *columns, *appended]
    if connection.dialect.name == "postgresql":
        # Named, and each cast to its column's type: a VALUES list types its columns from
        # its parameters alone (text for a column of nulls).
        alias = f"r({', '.join(f'c{index}' for index in range(len(names)))})"
        joined = [
            f"CAST(r.c{index} AS {table.c[name].type.compile(dialect=connection.dialect)})"
            for index, name in enumerate(names)
        ]
    else:
        alias = "r"  # SQLite names a VALUES list's columns column1, column2...
        joined = [f"r.column{index + 1}" for index in range(len(names))]
    sets = ", ".join(
        [
            *(f"{quote(name)} = {marker}" for name in fixed),
            *(f"{quote(name)} = {joined[1 + index]}" for index, name in enumerate(columns)),
            *(
                f"{quote(name)} = {target}.{quote(name)} || {joined[1 + len(columns) + index]}"
                for index, name in enumerate(appended)
            ),
        ]
    )
    conditions = "".join(f"{target}.{quote(name)} = {marker} AND " for name in where)
    row_markers = f"({', '.join([marker] * len(names))})"
    for part in chunked(given.converted(rows), _JOINED_ROWS):
        connection.exec_driver_sql(
            f"UPDATE {target} SET {sets} FROM (VALUES {', '.join([row_markers] * len(part))})"
            f" AS {alias} WHERE {conditions}{target}.{quote(key)} = {joined[0]}",
            (*set_values, *(value for row in part for value in row), *where_values),
        )


def ensure_statistics(connection: Connection, table: sa.Table) -> None:
    """PostgreSQL: analyze `table` now if it has no statistics (never analyzed, or analyzed
    while empty), so that lookups of many keys use its primary key.

    Without statistics the planner guesses a few hundred rows for any one client or folder,
    fewer than the keys of a long IN (...) list, and reads every row of that client or
    folder for each list instead: a long import, verify or sync of one client turned
    quadratic (100,000 entries: over a minute each). Where autovacuum runs, it analyzes
    the table soon enough after a large change, but not before the first one's own later
    statements, nor at all where it is off. Once analyzed with rows, a client's estimate
    follows its share of the table, and a client the statistics have not seen is
    estimated at a few rows: both favour the primary key. ANALYZE runs in the caller's
    transaction, seeing its rows; it holds a lock that a concurrent ANALYZE of the same
    table waits for until this transaction ends, which only a table without statistics
    ever asks for.
    """
    if connection.dialect.name != "postgresql":
        return
    tuples = connection.scalar(
        sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
        {"name": table.name},
    )
    if tuples is None or tuples <= 0:
        connection.exec_driver_sql(
            f"ANALYZE {connection.dialect.identifier_preparer.quote(table.name)}"
        )


def update_where_in(
    connection: Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    where: Mapping[str, Any],
    column: str,
    keys: Sequence[Any],
    *,
    chunk: int,
    appended: Mapping[str, str] | None = None,
) -> int:
    """UPDATE `table` SET `values`, and each text of `appended` appended to its column, WHERE
    each column of `where` equals its value (is null, for None) and `column` is one of
    `keys`, `chunk` keys per statement; how many rows were changed.

    What an expanding IN parameter does, but its markers are written here with a join: an
    expanding parameter renders each key's parameter in Python at every execution.
    """
    if not keys:
        return 0
    if len(keys) > chunk:
        ensure_statistics(connection, table)
    equal = {name: value for name, value in where.items() if value is not None}
    texts = dict(appended or {})
    statement = _Statement(connection, table, [*values, *texts, *equal, column])
    [fixed] = statement.converted([(*values.values(), *texts.values(), *equal.values(), None)])
    marker, quote = statement.marker, statement.quote
    sets = _sets(statement, values, texts)
    conditions = "".join(
        f"{quote(name)} IS NULL AND " if value is None else f"{quote(name)} = {marker} AND "
        for name, value in where.items()
    )
    changed = 0
    for part, markers in _key_lists(statement, column, keys, chunk):
        result = connection.exec_driver_sql(
            f"UPDATE {statement.table} SET {sets} WHERE {conditions}{quote(column)} IN ({markers})",
            (*fixed[:-1], *part),
        )
        changed += result.rowcount
    return changed


def select_where_in(
    connection: Connection,
    table: sa.Table,
    columns: Sequence[str],
    where: Mapping[str, Any],
    column: str,
    keys: Sequence[Any],
    *,
    chunk: int,
    lock: bool = False,
    order_by: str | None = None,
) -> list[tuple[Any, ...]]:
    """The `columns` of `table`'s rows WHERE each column of `where` equals its value and
    `column` is one of `keys` (`chunk` keys per statement), by `order_by` (by `column`
    unless given), as the driver gives them; with `lock`, locked until the transaction ends
    (FOR UPDATE where the database locks rows: SQLite's writer holds the whole database
    already).

    What an expanding IN parameter does, its markers written here (see `update_where_in`).
    A long list of keys wants the table's statistics first (`ensure_statistics`).
    """
    if not keys:
        return []
    statement = _Statement(connection, table, [*where, column])
    [fixed] = statement.converted([(*where.values(), None)])
    marker, quote = statement.marker, statement.quote
    selected = ", ".join(quote(name) for name in columns)
    conditions = "".join(f"{quote(name)} = {marker} AND " for name in where)
    locking = " FOR UPDATE" if lock and connection.dialect.name == "postgresql" else ""
    rows: list[tuple[Any, ...]] = []
    for part, markers in _key_lists(statement, column, keys, chunk):
        result = connection.exec_driver_sql(
            f"SELECT {selected} FROM {statement.table} WHERE {conditions}{quote(column)}"
            f" IN ({markers}) ORDER BY {quote(order_by or column)}{locking}",
            (*fixed[:-1], *part),
        )
        rows += result.tuples().all()  # fetched at once, not a driver call per row
    return rows


def _key_lists(
    statement: _Statement, column: str, keys: Sequence[Any], chunk: int
) -> Iterator[tuple[Sequence[Any], str]]:
    """`keys` by lists of `chunk`, each as the driver takes it, with its markers `?, ?, ...`."""
    convert_key = statement.converter(column)
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        if convert_key is not _as_is:
            part = [convert_key(key) for key in part]
        yield part, ", ".join([statement.marker] * len(part))
