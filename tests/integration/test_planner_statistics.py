"""Long lists of keys on PostgreSQL: a table without statistics is analyzed once it holds rows,
so that each list is looked up in the primary key instead of reading all of a client's rows
for each list (which made a long import, verify or sync of one client quadratic)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from ledgerbridge.db import Database
from ledgerbridge.workspace.service import Workspace
from ledgerbridge.workspace.tables import entries
from ledgerbridge.workspace.transitions import ID_CHUNK
from tests.integration.workspace_samples import invoice, new_workspace, parsed

MANY = 2 * ID_CHUNK + 100  # more keys than one list holds, and more than one import chunk


@pytest.fixture
def workspace(database: Database) -> Workspace:
    workspace, _, _ = new_workspace(database)
    workspace.connect_client("ACME")
    return workspace


@contextmanager
def analyzes(database: Database) -> Iterator[list[str]]:
    """The tables analyzed while the block runs."""
    analyzed: list[str] = []

    def seen(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("ANALYZE"):
            analyzed.append(statement.removeprefix("ANALYZE ").strip('"'))

    engine = database.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield analyzed
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def estimated_rows(database: Database, table: sa.Table) -> float:
    with database.transaction(write=False) as connection:
        tuples = connection.scalar(
            sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
            {"name": table.name},
        )
    assert tuples is not None
    return float(tuples)


def estimated_rows_of_client(database: Database, client: str) -> float:
    """How many of ws_entries' rows PostgreSQL expects one client to have: what decides
    between reading a client's rows and looking each key of a list up in the primary key."""
    with database.transaction(write=False) as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) SELECT entry_id FROM ws_entries WHERE client = '{client}'"
        ).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


def test_a_long_import_gives_the_entries_table_statistics_of_its_clients(
    workspace: Workspace, database: Database
) -> None:
    ids = [f"inv-{number:05d}" for number in range(MANY)]

    with analyzes(database) as analyzed:
        workspace.import_entries("ACME", parsed(*(invoice(entry_id) for entry_id in ids)))

    if database.engine.dialect.name != "postgresql":
        assert analyzed == []  # SQLite's planner needs none
        return
    assert analyzed == ["ws_entries"]
    assert estimated_rows(database, entries) >= 2 * ID_CHUNK
    # Without statistics the guess is a fraction of a percent of the table (a few rows here,
    # a few hundred at 100,000), below a list's 500 keys; now it is the client's real size.
    assert estimated_rows_of_client(database, "ACME") >= 0.9 * MANY


def test_a_table_with_statistics_is_not_analyzed_again(
    workspace: Workspace, database: Database
) -> None:
    ids = [f"inv-{number:05d}" for number in range(MANY)]
    workspace.import_entries("ACME", parsed(*(invoice(entry_id) for entry_id in ids)))

    with analyzes(database) as analyzed:
        verified = workspace.verify_all("ACME")

    assert len(verified) == MANY
    assert analyzed == []


def test_a_long_verify_by_ids_analyzes_a_table_left_without_statistics(
    workspace: Workspace, database: Database
) -> None:
    ids = [f"inv-{number:05d}" for number in range(ID_CHUNK + 10)]  # one import chunk
    with analyzes(database) as analyzed:
        workspace.import_entries("ACME", parsed(*(invoice(entry_id) for entry_id in ids)))
        assert analyzed == []  # too short an import to need it

        verified = workspace.verify("ACME", ids)  # each named: more ids than one list holds

    assert len(verified) == len(ids)
    postgresql = database.engine.dialect.name == "postgresql"
    assert analyzed == (["ws_entries"] if postgresql else [])


def test_a_verify_of_every_entry_names_no_key_and_needs_no_statistics(
    workspace: Workspace, database: Database
) -> None:
    ids = [f"inv-{number:05d}" for number in range(ID_CHUNK + 10)]
    workspace.import_entries("ACME", parsed(*(invoice(entry_id) for entry_id in ids)))

    with analyzes(database) as analyzed:
        verified = workspace.verify_all("ACME")

    assert sorted(change.entry_id for change in verified) == ids
    assert analyzed == []  # one statement per status moved from, by the client's status
