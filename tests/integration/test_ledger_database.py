"""The database under the ledger: which one is used, its settings, its migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
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


def test_posted_lines_and_allocations_are_kept_across_migration_0006(
    acme: Ledger, database: Database
) -> None:
    acme.post_batch("ACME", [purchase("a"), sale("b")], on_result=lambda result: None)
    before = list(acme.posted_entries("ACME"))
    config = alembic_config()

    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005_outbox_content")
        command.upgrade(config, "heads")

    assert list(acme.posted_entries("ACME")) == before
    assert any(line.analytics for entry in before for line in entry.lines)
    if database.url.get_backend_name() == "sqlite":
        with database.transaction(write=False) as connection:
            schemas: dict[str, str] = {
                row.name: row.sql
                for row in connection.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                    " AND name IN ('ledger_lines', 'ledger_allocations')"
                )
            }
        assert {name: "WITHOUT ROWID" in sql for name, sql in schemas.items()} == {
            "ledger_lines": True,
            "ledger_allocations": True,
        }
    for table in ("ledger_lines", "ledger_allocations"):
        with pytest.raises(DBAPIError, match="immutable"), database.transaction() as connection:
            connection.execute(text(f"DELETE FROM {table}"))


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
            )
        }

    assert settings == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "busy_timeout": 60_000,
        "wal_autocheckpoint": 10_000,
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
