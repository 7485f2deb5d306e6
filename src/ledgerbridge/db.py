"""The database: engine, transactions and schema migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from ledgerbridge.domain.refusals import Refusal

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

DATABASE_URL_VARIABLE = "LEDGERBRIDGE_DATABASE_URL"
HOME_VARIABLE = "LEDGERBRIDGE_HOME"
DEFAULT_HOME = Path("~/.ledgerbridge")
SQLITE_FILE_NAME = "ledgerbridge.sqlite"
MIGRATIONS = "ledgerbridge:migrations"
# The latest migration of each branch (migrations/versions): a database at these is used as
# it is, told by one query, without loading Alembic and the migration scripts (a tenth of a
# second at each command). A test keeps this equal to the scripts' heads.
SCHEMA_HEADS = frozenset({"0015_no_status_index"})

# A long batch holds SQLite's write lock for seconds; others wait for it rather than fail.
SQLITE_BUSY_TIMEOUT_SECONDS = 60
# A new database's page size, in bytes (SQLite's default: 4,096). Larger pages hold more rows
# each: a posting of 100,000 entries inserts and commits about a tenth quicker. A database
# made before keeps its pages (the size is chosen once, when the file is made).
SQLITE_PAGE_SIZE = 16_384
WAL_CHECKPOINT_BYTES = 40_000_000  # of log between two checkpoints (SQLite's default: 4 MB)
# Any constant shared by every process migrating the same PostgreSQL database.
_MIGRATION_LOCK_KEY = 0x1ED6E7B71D6E
_BEGIN_OPTION = "ledgerbridge_sqlite_begin"


def database_url(home: Path | None = None, url: str | None = None) -> URL:
    """Which database to use: `url`, else LEDGERBRIDGE_DATABASE_URL, else SQLite in the home."""
    chosen = url or os.environ.get(DATABASE_URL_VARIABLE) or None
    if chosen is not None:
        return _checked_url(chosen, "The database URL" if url else DATABASE_URL_VARIABLE)
    if home is None:
        home = Path(os.environ.get(HOME_VARIABLE) or DEFAULT_HOME)
    home = home.expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return URL.create("sqlite", database=str(home / SQLITE_FILE_NAME))


def _checked_url(chosen: str, source: str) -> URL:
    """The URL of a database ledgerbridge works with: PostgreSQL (through psycopg 3, whatever
    driver the URL names or omits) or SQLite."""
    try:
        url = make_url(chosen)
    except sa.exc.ArgumentError:
        raise DatabaseUnusable(
            f"{source} is not a database URL: {chosen!r}.", fix=_URL_FIX
        ) from None
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise DatabaseUnusable(
            f"{source} names a {backend} database: ledgerbridge works with PostgreSQL, or with"
            " its embedded SQLite database.",
            fix=_URL_FIX,
        )
    return url


class Moment(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime, read back aware even where the database keeps no time zone."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("only aware times are stored: give the datetime a timezone")
        utc = value.astimezone(UTC)
        # SQLite's DATETIME keeps the wall time only: store it in UTC.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Database:
    """One database for the parts that share it; the schema is brought to date on first use."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    @classmethod
    def open(cls, home: Path | None = None, url: str | None = None) -> Database:
        return cls(create_database_engine(database_url(home, url)))

    @property
    def url(self) -> URL:
        return self._engine.url

    @property
    def is_sqlite(self) -> bool:
        return self._engine.dialect.name == "sqlite"

    @property
    def shared_by_processes(self) -> bool:
        """Whether another process can open its own connection and read what is committed
        (a database file or server, not an in-memory SQLite)."""
        return not (self.is_sqlite and self._engine.url.database in {None, "", ":memory:"})

    def forget_inherited_connections(self) -> None:
        """In a forked process: leave the pooled connections to the process that opened
        them, so that this one opens its own."""
        self._engine.dispose(close=False)

    @property
    def engine(self) -> Engine:
        """The engine, once the schema is at the latest migration."""
        self.ensure_schema()
        return self._engine

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """A connection in a transaction: committed when the block ends, rolled back on error.

        On SQLite a writing transaction takes the write lock when it begins (BEGIN
        IMMEDIATE): two writers then queue on the busy timeout instead of one failing
        halfway when it first writes. `write=False` reads a snapshot without blocking writers.
        """
        self.ensure_schema()
        with self._engine.connect() as connection:
            if write and self.is_sqlite:
                connection.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            with connection.begin():
                yield connection

    def ensure_schema(self) -> None:
        """Upgrade to the latest migrations unless already there (one cheap query then)."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                if _schema_revisions(self._engine) != SCHEMA_HEADS:
                    _migrate(self._engine)
                self._schema_ready = True

    def dispose(self) -> None:
        self._engine.dispose()


def create_database_engine(url: URL) -> Engine:
    """An engine configured for ledgerbridge: SQLite's pragmas and transactions, or PostgreSQL."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def wal_autocheckpoint(cursor: Any) -> int:
    """Pages of log between two checkpoints, for the database `cursor` is on."""
    (page_size,) = cursor.execute("PRAGMA page_size").fetchone()
    return max(1, WAL_CHECKPOINT_BYTES // int(page_size))


def _none_as_is(value: None) -> None:
    return value


# The oldest SQLite with what ledgerbridge's statements use: RETURNING (3.35) and
# UPDATE ... FROM (3.33).
SQLITE_OLDEST = (3, 35, 0)


def _sqlite_engine(url: URL) -> Engine:
    if sqlite3.sqlite_version_info < SQLITE_OLDEST:
        oldest = ".".join(map(str, SQLITE_OLDEST))
        raise DatabaseUnusable(
            f"This Python's SQLite is version {sqlite3.sqlite_version}; ledgerbridge's embedded"
            f" database needs SQLite {oldest} or later.",
            fix=f"Run ledgerbridge with a Python built with SQLite {oldest} or later, or set"
            f" {DATABASE_URL_VARIABLE} to a PostgreSQL database.",
        )
    # The driver adapts every parameter that is not exactly an int, float or str, None
    # included: without an adapter registered for its type, it looks the protocol's
    # `__adapt__` up on a type object, which formats an AttributeError and drops it (some
    # 3,500 instructions on CPython 3.11, for each None of each row of an executemany).
    # Registered, None is found at once and bound as NULL as before.
    sqlite3.register_adapter(type(None), _none_as_is)
    in_memory = url.database in {None, "", ":memory:"}
    options: dict[str, Any] = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
    }
    if in_memory:
        # One shared connection, or each would see its own empty database.
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling never begins before DDL and cannot
        # BEGIN IMMEDIATE; turn it off and begin transactions ourselves (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")  # a new file's only
            cursor.execute("PRAGMA journal_mode = WAL")
            # A checkpoint copies the log's pages into the database file. At SQLite's
            # default, every 1,000 pages (4 MB), busy work copies the same pages (the
            # tables' last pages, their indexes' inner pages) over and over; every
            # WAL_CHECKPOINT_BYTES, each is copied fewer times: the round trip of 100
            # clients took 13% less time. The log file grows to that size and stays.
            cursor.execute(f"PRAGMA wal_autocheckpoint = {wal_autocheckpoint(cursor)}")
        # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on a power cut.
        # A posted entry's number has already been reported to the workspace when the
        # batch commits, so losing it would hand the same number to another entry. A batch
        # is one transaction, so the extra sync per commit costs little.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # Straight to the driver: BEGIN needs nothing of SQLAlchemy's execution, which costs
        # about a tenth of a millisecond, at each of a round trip's 17 transactions a client.
        driver = connection.connection.driver_connection
        assert driver is not None  # a connection begins on an open driver connection
        driver.execute(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))

    return engine


def _schema_revisions(engine: Engine) -> frozenset[str] | None:
    """The revisions the database says it is at; None when it has no version table yet."""
    with engine.connect() as connection:
        try:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(versions.scalars())
        except DBAPIError:  # no such table: a new database
            return None
        finally:
            connection.rollback()


@cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def alembic_config() -> Config:
    """Alembic's configuration for the migrations shipped in the package (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


_URL_FIX = (
    f"Write it like postgresql://USER@HOST:5432/DATABASE, or unset {DATABASE_URL_VARIABLE}"
    " to use the embedded database of the home (--home DIR)."
)
_AGAIN = "What was committed before stays: running the command again is safe."


class DatabaseUnusable(Refusal):
    """The database cannot be reached, read or written: told with what to do about it."""

    code = "database_unusable"
    http_status = 503


def database_problem(error: BaseException, url: URL) -> DatabaseUnusable | None:
    """What a failure of the database itself means for the person who ran the command (a
    damaged file, a full disk, a server out of reach), or None for any other error."""
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        return _sqlite_problem(cause, url.database or "(in memory)")
    if url.get_backend_name() == "postgresql" and isinstance(error, sa.exc.OperationalError):
        said = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        shown = url.set(drivername="postgresql").render_as_string(hide_password=True)
        return DatabaseUnusable(
            f"The PostgreSQL database {shown} cannot be used: {said}.",
            fix="Start the server, or correct the database URL (host, port, user, database"
            f" name) in {DATABASE_URL_VARIABLE}. {_AGAIN}",
        )
    return None


def _sqlite_problem(cause: sqlite3.Error, path: str) -> DatabaseUnusable | None:
    primary = getattr(cause, "sqlite_errorcode", 0) & 0xFF
    for codes, what, fix in _SQLITE_PROBLEMS:
        if primary in codes:
            return DatabaseUnusable(f"The database file {path} {what} (SQLite: {cause}).", fix=fix)
    return None


# What each failure of SQLite's own (its primary result codes) means for the database file,
# and what to do about it.
_SQLITE_PROBLEMS: tuple[tuple[frozenset[int], str, str], ...] = (
    (
        frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}),
        "is damaged, or is not a ledgerbridge database",
        "Restore the file from a backup, or start a new database in another home"
        " (--home DIR or LEDGERBRIDGE_HOME); ledgerbridge leaves this file as it is.",
    ),
    (
        frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}),
        f"stayed locked by another process for {SQLITE_BUSY_TIMEOUT_SECONDS} s",
        "Let the other ledgerbridge command end (a large posting or injection holds"
        f" the database while it writes), then run this one again. {_AGAIN}",
    ),
    (
        frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}),
        "cannot be opened for writing",
        "Give your user the right to write the file and its directory, or use"
        " another home (--home DIR or LEDGERBRIDGE_HOME).",
    ),
    (
        frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR}),
        "could not be written: the disk is full or failing",
        f"Free some space on its disk, or check the disk, then run the command again. {_AGAIN}",
    ),
)


class SchemaNewerThanCode(Refusal):
    """The database was migrated by a newer ledgerbridge than the one running."""

    code = "schema_newer_than_code"

    def __init__(self, url: URL, unknown: set[str]) -> None:
        super().__init__(
            f"The database at {url.render_as_string(hide_password=True)} is at schema"
            f" revision {', '.join(sorted(unknown))}, which this version of ledgerbridge does"
            " not know: a newer version migrated it.",
            fix="Upgrade ledgerbridge to use this database.",
        )


def _at_heads(connection: Connection) -> bool:
    from alembic.runtime.migration import MigrationContext

    scripts = _scripts()
    current = set(MigrationContext.configure(connection).get_current_heads())
    unknown = current - _known_revisions()
    if unknown:
        raise SchemaNewerThanCode(connection.engine.url, unknown)
    return current == set(scripts.get_heads())


def _migrate(engine: Engine) -> None:
    from alembic import command

    with engine.connect() as connection:
        if _at_heads(connection):
            connection.rollback()
            return
        connection.rollback()
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with connection.begin():
            # Another process may be migrating the same database: wait for it, then look again.
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            if _at_heads(connection):
                return
            config = alembic_config()
            config.attributes["connection"] = connection
            # Every head: parts that own their tables may each add a branch to the history.
            command.upgrade(config, "heads")
