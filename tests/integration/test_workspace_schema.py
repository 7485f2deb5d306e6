"""Migration 0003_workspace creates the workspace's tables exactly as workspace/tables.py reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ledgerbridge.db import Database
from ledgerbridge.workspace.tables import clients, metadata


def test_the_migrated_tables_have_the_columns_indexes_and_keys_of_the_code(
    database: Database,
) -> None:
    inspector = sa.inspect(database.engine)
    for table in metadata.sorted_tables:
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        assert set(columns) == {column.name for column in table.columns}, table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)
        primary_key = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert primary_key == [column.name for column in table.primary_key.columns], table.name
        indexes = {
            index["name"]: index["column_names"] for index in inspector.get_indexes(table.name)
        }
        assert indexes == {
            index.name: [column.name for column in index.columns] for index in table.indexes
        }, table.name


def test_times_are_read_back_aware_in_utc(database: Database) -> None:
    paris_noon = datetime.fromisoformat("2026-03-20T12:00:00+01:00")
    with database.transaction() as connection:
        connection.execute(
            clients.insert().values(
                folder="ACME",
                api_enabled=True,
                auto_send="manual",
                send_at="02:00",
                timezone="Europe/Paris",
                created_at=paris_noon,
            )
        )
    with database.transaction(write=False) as connection:
        created = connection.execute(sa.select(clients.c.created_at)).scalar_one()
    assert created == paris_noon
    assert created.tzinfo is not None
    assert created.utcoffset() == UTC.utcoffset(None)
