"""The workspace's migrations make its tables exactly as workspace/tables.py reads them, and keep
what they hold."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from ledgerbridge.db import Database, alembic_config
from ledgerbridge.workspace.tables import clients, metadata
from tests.integration.workspace_samples import invoice, new_workspace, parsed, stored


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


def test_entries_keep_their_documents_across_migration_0007(database: Database) -> None:
    workspace, _, _ = new_workspace(database)
    workspace.connect_client("ACME")
    workspace.import_entries("ACME", parsed(invoice("inv-1"), invoice("inv-2")))
    workspace.edit("ACME", "inv-2", {"label": "corrigé"})
    before = {entry_id: _document(database, entry_id) for entry_id in ("inv-1", "inv-2")}
    config = alembic_config()

    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006_lines_without_rowid")
        # Back in the entries' rows; a current revision missing from ws_revisions comes
        # back from its row when the column goes again.
        connection.execute(sa.text("DELETE FROM ws_revisions WHERE entry_id = 'inv-1'"))
        command.upgrade(config, "heads")

    assert {entry_id: _document(database, entry_id) for entry_id in before} == before
    assert before["inv-2"]["label"] == "corrigé"
    edited = workspace.edit("ACME", "inv-1", {"label": "vu"})
    assert (edited.revision, _document(database, "inv-1")["label"]) == (2, "vu")


def _document(database: Database, entry_id: str) -> Any:
    row = stored(database, "ACME", entry_id)
    assert row is not None
    return json.loads(row.content)


def test_entries_keep_their_histories_across_migration_0011(database: Database) -> None:
    workspace, _, _ = new_workspace(database)
    workspace.connect_client("ACME")
    workspace.import_entries("ACME", parsed(invoice("inv-1"), invoice("inv-2"), invoice("inv-3")))
    workspace.edit("ACME", "inv-2", {"label": "corrigé"})
    workspace.verify("ACME", ["inv-1", "inv-2"])
    workspace.exclude("ACME", ["inv-3"])
    before = {entry_id: workspace.history("ACME", entry_id) for entry_id in ("inv-1", "inv-2")}
    before["inv-3"] = workspace.history("ACME", "inv-3")
    config = alembic_config()

    # Down to revision 0010: a row per entry and change.
    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_lines_with_their_entry")
        rows = connection.execute(
            sa.text("SELECT entry_id, revision, from_status, to_status, message FROM ws_history")
        ).all()
    assert Counter(tuple(row) for row in rows) == Counter(
        (entry_id, line.revision, line.from_status, line.to_status, line.message)
        for entry_id, lines in before.items()
        for line in lines
    )

    # And up again: the same lines, and new changes follow them.
    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    assert {entry_id: workspace.history("ACME", entry_id) for entry_id in before} == before
    workspace.restore("ACME", ["inv-3"])
    assert workspace.history("ACME", "inv-3")[:-1] == before["inv-3"]
    assert workspace.history("ACME", "inv-3")[-1].message == "restored"
    assert [line.revision for line in workspace.history("ACME", "inv-2")] == [1, 2, 2]
