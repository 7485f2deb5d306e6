"""The database under the ledger: which one is used, its settings, its migrations."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledgerbridge import db
from ledgerbridge.db import (
    SCHEMA_HEADS,
    Database,
    SchemaNewerThanCode,
    alembic_config,
    database_url,
)
from ledgerbridge.domain.entries import Entry, entry_document, lines_json, parse_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.ledger import tables
from ledgerbridge.ledger.service import Ledger
from tests.integration.ledger_samples import purchase, sale


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("LEDGERBRIDGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEDGERBRIDGE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    return tmp_path


def test_an_explicit_url_comes_first(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", "sqlite:///elsewhere.sqlite")

    url = database_url(home=clean_environment, url="postgresql://ledger@db.example/books")

    assert url.render_as_string() == "postgresql+psycopg://ledger@db.example/books"


def test_the_environment_s_url_comes_before_the_home(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", "postgres://ledger@db.example/books")

    url = database_url(home=clean_environment)

    assert url.drivername == "postgresql+psycopg"
    assert url.database == "books"


def test_without_a_url_the_home_holds_an_sqlite_file(clean_environment: Path) -> None:
    home = clean_environment / "state"

    url = database_url(home=home)

    assert url.get_backend_name() == "sqlite"
    assert url.database == str(home / "ledgerbridge.sqlite")
    assert home.is_dir()


def test_the_home_comes_from_the_environment_else_the_user_s_directory(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert database_url().database == str(
        clean_environment / "user/.ledgerbridge/ledgerbridge.sqlite"
    )

    monkeypatch.setenv("LEDGERBRIDGE_HOME", str(clean_environment / "from-env"))

    assert database_url().database == str(clean_environment / "from-env/ledgerbridge.sqlite")


def test_first_use_brings_the_schema_to_the_latest_migrations(database: Database) -> None:
    with database.transaction(write=False) as connection:
        current = MigrationContext.configure(connection).get_current_heads()

    assert set(current) == set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert "0001_ledger" in {
        revision.revision
        for revision in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def test_the_heads_known_without_alembic_are_the_migrations_heads() -> None:
    assert set(ScriptDirectory.from_config(alembic_config()).get_heads()) == SCHEMA_HEADS


def test_a_database_at_the_latest_migrations_is_opened_without_alembic(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    database.ensure_schema()

    def no_migration(*args: object, **kwargs: object) -> None:
        raise AssertionError("the migrations were loaded for a database already at their heads")

    monkeypatch.setattr(db, "_migrate", no_migration)
    again = Database.open(url=database.url.render_as_string(hide_password=False))
    try:
        with again.transaction(write=False) as connection:
            assert connection.execute(text("SELECT count(*) FROM ledger_folders")).scalar() == 0
    finally:
        again.dispose()


def test_the_tables_match_the_migrations(database: Database) -> None:
    with database.transaction(write=False) as connection:
        differences = compare_metadata(MigrationContext.configure(connection), tables.metadata)

    ledger_differences = [difference for difference in differences if "ledger_" in str(difference)]
    assert ledger_differences == []


def test_the_migrations_go_down_and_up_again(database: Database) -> None:
    database.ensure_schema()
    config = alembic_config()

    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "heads")

    with database.transaction(write=False) as connection:
        assert connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar() == 0


def split_purchase(entry_id: str) -> Entry:
    """A purchase whose expense is allocated to two sites, LYON first."""
    document = entry_document(purchase(entry_id))
    document["lines"][0]["analytics"] = [
        {"axis": "SITE", "section": "LYON", "amount": "60.00"},
        {"axis": "SITE", "section": "PARIS", "amount": "40.00"},
    ]
    return parse_entry(document)


def _fec(ledger: Ledger, fiscal_year: str) -> str:
    out = io.StringIO()
    ledger.export_fec("ACME", out, fiscal_year)
    return out.getvalue()


def test_posted_lines_and_allocations_move_into_their_entry_s_row_at_migration_0010(
    acme: Ledger, database: Database
) -> None:
    entries = [
        purchase("a"),
        sale("b"),
        purchase("c", "2025-11-30", "3413.77", reference=None, label=None),
        split_purchase("d"),
    ]
    acme.post_batch("ACME", entries, on_result=lambda result: None)
    before = list(acme.posted_entries("ACME"))
    fec_before = {year: _fec(acme, year) for year in ("2025", "2026")}
    config = alembic_config()

    # Down to the tables of revision 0009: a row per line, a row per allocation, in cents.
    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_rejection_batch")
        ids = dict(
            connection.execute(text("SELECT entry_id, id FROM ledger_entries")).tuples().all()
        )
        lines = connection.execute(
            text(
                "SELECT entry, line, account, auxiliary, label, debit, credit FROM ledger_lines"
                " ORDER BY entry, line"
            )
        ).all()
        allocations = connection.execute(
            text(
                "SELECT entry, line, position, axis, section, amount FROM ledger_allocations"
                " ORDER BY entry, line, position"
            )
        ).all()
    a, b, c, d = (ids[entry.id] for entry in entries)
    assert [tuple(row) for row in lines] == sorted(
        [
            (a, 1, "606100", None, "EDF", 10000, 0),
            (a, 2, "445660", None, "TVA", 2000, 0),
            (a, 3, "401000", "FEDF", None, 0, 12000),
            (b, 1, "411000", "CDUPONT", None, 120000, 0),
            (b, 2, "706000", None, None, 0, 100000),
            (b, 3, "445710", None, None, 0, 20000),
            (c, 1, "606100", None, "EDF", 341377, 0),
            (c, 2, "445660", None, "TVA", 68275, 0),
            (c, 3, "401000", "FEDF", None, 0, 409652),
            (d, 1, "606100", None, "EDF", 10000, 0),
            (d, 2, "445660", None, "TVA", 2000, 0),
            (d, 3, "401000", "FEDF", None, 0, 12000),
        ]
    )
    assert [tuple(row) for row in allocations] == sorted(
        [
            (a, 1, 1, "SITE", "PARIS", 10000),
            (c, 1, 1, "SITE", "PARIS", 341377),
            (d, 1, 1, "SITE", "LYON", 6000),
            (d, 1, 2, "SITE", "PARIS", 4000),
        ]
    )

    # And up again: each entry's lines back in its row, exactly as posting writes them.
    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
        stored = dict(
            connection.execute(text("SELECT entry_id, lines FROM ledger_entries")).tuples().all()
        )

    assert stored == {entry.id: lines_json(entry.lines) for entry in entries}
    assert list(acme.posted_entries("ACME")) == before
    assert {year: _fec(acme, year) for year in ("2025", "2026")} == fec_before
    with database.transaction(write=False) as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert {"ledger_lines", "ledger_allocations"}.isdisjoint(tables)
    for statement in ("UPDATE ledger_entries SET lines = '[]'", "DELETE FROM ledger_entries"):
        with pytest.raises(DBAPIError, match="immutable"), database.transaction() as connection:
            connection.execute(text(statement))
    assert list(acme.posted_entries("ACME")) == before


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_sqlite_checks_foreign_keys_logs_ahead_and_syncs_each_commit(database: Database) -> None:
    with database.transaction(write=False) as connection:
        settings = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in (
                "foreign_keys",
                "journal_mode",
                "synchronous",
                "busy_timeout",
                "wal_autocheckpoint",
                "page_size",
            )
        }

    assert settings == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "busy_timeout": 60_000,
        "wal_autocheckpoint": 2_441,  # 40 MB of log, in pages of 16 KiB
        "page_size": 16_384,
    }


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_writing_transaction_on_sqlite_holds_the_write_lock_from_its_start(
    database: Database,
) -> None:
    other = sqlite3.connect(str(database.url.database), timeout=0, isolation_level=None)
    try:
        with database.transaction(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        with database.transaction(write=False):
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_database_migrated_by_a_newer_version_is_refused_with_the_fix(
    database: Database,
) -> None:
    with database.transaction() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    again = Database.open(url=database.url.render_as_string(hide_password=False))

    try:
        with pytest.raises(SchemaNewerThanCode, match=r"(?s)9999_future.*Upgrade ledgerbridge"):
            again.ensure_schema()
    finally:
        again.dispose()


def test_a_sqlite_file_made_before_keeps_its_pages_and_checkpoints_as_often(
    tmp_path: Path,
) -> None:
    path = tmp_path / "older.sqlite"
    older = sqlite3.connect(path)
    older.execute("PRAGMA page_size = 4096")
    older.execute("CREATE TABLE kept (value TEXT)")
    older.commit()
    older.close()
    database = Database.open(url=f"sqlite:///{path}")
    try:
        with database.transaction(write=False) as connection:
            page_size = connection.exec_driver_sql("PRAGMA page_size").scalar()
            pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    finally:
        database.dispose()
    assert (page_size, pages) == (4096, 9_765)  # still 40 MB of log between checkpoints


def _sqlite_error(path: Path, writes: str) -> DBAPIError:
    """The error a statement that `writes` gets from SQLite, as the engine hands it on."""
    with pytest.raises(sqlite3.Error) as raised:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None, uri=True)
        try:
            connection.execute(writes)
        finally:
            connection.close()
    return DBAPIError(writes, None, raised.value)


def test_a_locked_or_read_only_sqlite_file_is_told_with_its_fix(tmp_path: Path) -> None:
    path = tmp_path / "ledgerbridge.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    url = database_url(url=f"sqlite:///{path}")
    try:
        locked = db.database_problem(_sqlite_error(path, "INSERT INTO t VALUES (1)"), url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    read_only = db.database_problem(
        _sqlite_error(Path(f"file:{path}?mode=ro"), "INSERT INTO t VALUES (1)"), url
    )

    assert locked is not None and read_only is not None
    assert locked.message.startswith(f"The database file {path} stayed locked by another process")
    assert locked.fix is not None and locked.fix.startswith(
        "Let the other ledgerbridge command end"
    )
    assert read_only.message.startswith(f"The database file {path} cannot be opened for writing")


def test_an_error_of_a_statement_is_no_problem_of_the_database(tmp_path: Path) -> None:
    path = tmp_path / "ledgerbridge.sqlite"
    sqlite3.connect(path).close()
    url = database_url(url=f"sqlite:///{path}")

    assert db.database_problem(_sqlite_error(path, "SELECT * FROM nowhere"), url) is None
    assert db.database_problem(ValueError("not from a database"), url) is None


def test_posted_entries_stay_whole_and_immutable_across_migration_0014(
    acme: Ledger, database: Database
) -> None:
    acme.post_batch("ACME", [purchase("a"), sale("b")], on_result=lambda result: None)
    before = list(acme.posted_entries("ACME"))
    config = alembic_config()

    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013_rejection_settled")
        command.upgrade(config, "heads")

    assert list(acme.posted_entries("ACME")) == before
    with pytest.raises(DBAPIError), database.transaction() as connection:
        connection.execute(text("UPDATE ledger_entries SET label = 'changed'"))
    results: list[CheckResult] = []
    acme.post_batch(
        "ACME", [purchase("a")], on_result=results.append, key=lambda entry: f"ACME/{entry.id}/1"
    )
    assert [(result.entry_number, result.replay) for result in results] == [(1, True)]
