"""Posted entries, with their lines, are never changed nor deleted: the database refuses."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledgerbridge.db import Database
from ledgerbridge.ledger import Ledger
from tests.integration.ledger_samples import purchase

TAMPERING = [
    "UPDATE ledger_entries SET label = 'changed'",
    "UPDATE ledger_entries SET date = date",
    "UPDATE ledger_entries SET lines = '[]'",
    "UPDATE ledger_entries SET lines = replace(lines, 'PARIS', 'LYON')",
    "DELETE FROM ledger_entries",
]


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_database_refuses_to_change_a_posted_entry(
    acme: Ledger, database: Database, statement: str
) -> None:
    acme.post_batch("ACME", [purchase("a")], on_result=lambda result: None)
    before = [entry.as_dict() for entry in acme.posted_entries("ACME")]

    with (
        pytest.raises(DBAPIError, match="posted entries are immutable"),
        database.transaction() as connection,
    ):
        connection.execute(text(statement))

    assert [entry.as_dict() for entry in acme.posted_entries("ACME")] == before


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_postgresql_refuses_to_truncate_posted_entries(acme: Ledger, database: Database) -> None:
    acme.post_batch("ACME", [purchase("a")], on_result=lambda result: None)

    with (
        pytest.raises(DBAPIError, match="posted entries are immutable"),
        database.transaction() as connection,
    ):
        connection.execute(text("TRUNCATE ledger_entries CASCADE"))

    assert len(list(acme.posted_entries("ACME"))) == 1


def test_the_entry_counter_moves_normally(acme: Ledger, database: Database) -> None:
    acme.post_batch("ACME", [purchase("a"), purchase("b")], on_result=lambda result: None)
    acme.post_batch("ACME", [purchase("c")], on_result=lambda result: None)

    with database.transaction(write=False) as connection:
        counters = connection.execute(
            text("SELECT fiscal_year, last_number FROM ledger_entry_counters")
        ).all()

    assert [tuple(row) for row in counters] == [("2026", 3)]
