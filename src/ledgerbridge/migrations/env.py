"""Alembic's entry point: runs the migrations on the connection that `ledgerbridge.db` passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ledgerbridge.db import create_database_engine, database_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    # From the alembic command line, `-x url=...` names the database (else the default one).
    url = context.get_x_argument(as_dictionary=True).get("url")
    engine = create_database_engine(database_url(url=url))
    with engine.connect() as own_connection:
        _run(own_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
