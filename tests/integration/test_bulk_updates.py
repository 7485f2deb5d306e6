"""Updates of many rows, each with values of its own, joined to those values: every row gets
its own, whatever the database and however many statements it takes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from ledgerbridge.bulk import update_rows
from ledgerbridge.db import Database
from ledgerbridge.workspace.tables import entries
from tests.integration.workspace_samples import RecordingConnector, invoice, new_workspace, parsed

MANY = 1_210  # three statements of joined rows: 500, 500 and 210
LATER = datetime(2026, 4, 2, 7, 30, tzinfo=UTC)


def test_each_row_gets_its_own_values_and_no_other_row_changes(database: Database) -> None:
    workspace, _, _ = new_workspace(database, RecordingConnector(folders=("ACME", "BETA")))
    ids = [f"inv-{number:05d}" for number in range(MANY)]
    for client in ("ACME", "BETA"):
        workspace.connect_client(client)
        workspace.import_entries(client, parsed(*(invoice(entry_id) for entry_id in ids)))
    with database.transaction(write=False) as connection:
        history_before = connection.execute(
            sa.select(entries.c.history).where(entries.c.client == "ACME").limit(1)
        ).scalar_one()
        beta_before = connection.execute(
            sa.select(entries).where(entries.c.client == "BETA").order_by(entries.c.entry_id)
        ).all()

    with database.transaction() as connection:
        update_rows(
            connection,
            entries,
            "entry_id",
            ("entry_number", "message"),
            # A column of nulls only (message), and text with a quote and a non-ASCII letter.
            [
                (entry_id, number + 1, None, f'[9,1,"n°{number}"],')
                for number, entry_id in enumerate(ids)
            ],
            fixed={"status": "synchronized", "updated_at": LATER, "fiscal_year": "2026"},
            where={"client": "ACME"},
            appended=("history",),
        )

    with database.transaction(write=False) as connection:
        acme = connection.execute(
            sa.select(entries).where(entries.c.client == "ACME").order_by(entries.c.entry_id)
        ).all()
        beta_after = connection.execute(
            sa.select(entries).where(entries.c.client == "BETA").order_by(entries.c.entry_id)
        ).all()
    assert [row.entry_number for row in acme] == list(range(1, MANY + 1))
    assert {(row.status, row.fiscal_year, row.message, row.updated_at) for row in acme} == {
        ("synchronized", "2026", None, LATER)
    }
    assert [row.history for row in acme] == [
        f'{history_before}[9,1,"n°{number}"],' for number in range(MANY)
    ]
    assert beta_after == beta_before
