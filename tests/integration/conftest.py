"""A fresh database for each test, on SQLite and on PostgreSQL.

PostgreSQL tests create a database `lb_test_<random>` on the server named by
LEDGERBRIDGE_TEST_POSTGRES_URL (default: the local server) and drop it afterwards. An
unreachable server fails them: CI starts PostgreSQL. Set the variable to the empty string
to skip them instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ledgerbridge.db import Database
from ledgerbridge.ledger import Ledger
from tests.integration.ledger_samples import POSTED_AT, acme_setup

POSTGRES_URL_VARIABLE = "LEDGERBRIDGE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_server_url() -> str | None:
    """The server to create test databases on; None when told to skip PostgreSQL."""
    value = os.environ.get(POSTGRES_URL_VARIABLE)
    if value is None:
        return DEFAULT_POSTGRES_URL
    return value or None


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server, dropped on exit; yields its URL."""
    url = make_url(server_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"lb_test_{secrets.token_hex(6)}"
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        unreachable: OperationalError | None = error
    else:
        unreachable = None
    if unreachable is not None:
        server.dispose()
        pytest.fail(
            f"PostgreSQL is unreachable at {url.render_as_string(hide_password=True)}:"
            f" {unreachable.orig}\nStart it, point {POSTGRES_URL_VARIABLE} at a running server,"
            f" or set {POSTGRES_URL_VARIABLE}= (empty) to skip the PostgreSQL tests.",
            pytrace=False,
        )
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@contextmanager
def open_database(backend: str, directory: Path) -> Iterator[Database]:
    if backend == "sqlite":
        # An explicit URL, so that LEDGERBRIDGE_DATABASE_URL in the environment cannot interfere.
        database = Database.open(url=f"sqlite:///{directory / 'ledgerbridge.sqlite'}")
        try:
            yield database
        finally:
            database.dispose()
        return
    server_url = postgres_server_url()
    if server_url is None:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is empty: PostgreSQL tests skipped")
    with fresh_postgres_database(server_url) as url:
        database = Database.open(url=url)
        try:
            yield database
        finally:
            database.dispose()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database, its schema applied on first use: SQLite, then PostgreSQL."""
    with open_database(request.param, tmp_path) as database:
        yield database


@pytest.fixture
def ledger(database: Database) -> Ledger:
    """A ledger whose batches are all posted at POSTED_AT."""
    return Ledger(database, clock=lambda: POSTED_AT)


@pytest.fixture
def acme(ledger: Ledger) -> Ledger:
    """The ledger with the ACME folder of SPEC §4.1 applied."""
    ledger.apply_setup(acme_setup())
    return ledger
