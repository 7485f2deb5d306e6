"""A database that cannot be used is told for people: what is wrong, where, and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

SETUP = Path(__file__).parent.parent.parent / "examples" / "acme-setup.json"


def test_a_file_that_is_no_database_is_refused_and_left_as_it_is(cli: Cli) -> None:
    cli.home.mkdir()
    database = cli.home / "ledgerbridge.sqlite"
    garbage = os.urandom(40_000)
    database.write_bytes(garbage)

    done = cli("doctor", "ACME")
    as_json = cli("--json", "ledger", "entries", "ACME")

    assert done.code == 1
    assert f"The database file {database} is damaged, or is not a ledgerbridge database" in (
        done.err
    )
    assert "To fix: Restore the file from a backup" in done.err
    assert "unexpected error" not in done.err
    assert as_json.code == 1
    assert as_json.json["error"]["code"] == "database_unusable"
    assert as_json.json["error"]["fix"].startswith("Restore the file from a backup")
    assert database.read_bytes() == garbage


def test_a_damaged_database_header_is_told_as_damaged(cli: Cli) -> None:
    assert cli("ledger", "apply", "--setup", SETUP).code == 0
    database = cli.home / "ledgerbridge.sqlite"
    for leftover in cli.home.glob("ledgerbridge.sqlite-*"):  # the log, checkpointed on close
        leftover.unlink()
    with database.open("r+b") as file:
        file.write(b"\xff" * 100)

    done = cli("ledger", "entries", "ACME")

    assert done.code == 1
    assert "is damaged, or is not a ledgerbridge database" in done.err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("nonsense", "LEDGERBRIDGE_DATABASE_URL is not a database URL: 'nonsense'."),
        (
            "mysql://user@db.example/ledger",
            "LEDGERBRIDGE_DATABASE_URL names a mysql database: ledgerbridge works with"
            " PostgreSQL, or with its embedded SQLite database.",
        ),
    ],
)
def test_a_database_url_of_no_usable_database_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, url: str, said: str
) -> None:
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", url)

    done = cli("ledger", "entries", "ACME")

    assert done.code == 1
    assert done.err.splitlines() == [
        said,
        "To fix: Write it like postgresql://USER@HOST:5432/DATABASE, or unset"
        " LEDGERBRIDGE_DATABASE_URL to use the embedded database of the home (--home DIR).",
    ]


def test_a_postgresql_server_out_of_reach_is_named_with_the_fix(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 (discard) has no PostgreSQL: the connection is refused at once.
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", "postgresql://clerk:secret@127.0.0.1:9/books")

    done = cli("--json", "client", "connect", "ACME")

    error = done.json["error"]
    assert done.code == 1
    assert error["code"] == "database_unusable"
    assert error["message"].startswith(
        "The PostgreSQL database postgresql://clerk:***@127.0.0.1:9/books cannot be used:"
    )
    assert "secret" not in done.out + done.err
    assert error["fix"].startswith("Start the server, or correct the database URL")


def test_a_python_with_too_old_an_sqlite_is_told_before_anything_is_stored(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sqlite3.sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr("sqlite3.sqlite_version", "3.31.1")

    done = cli("ledger", "apply", "--setup", SETUP)
    as_json = cli("--json", "doctor", "ACME")

    assert done.code == 1
    assert (
        "This Python's SQLite is version 3.31.1; ledgerbridge's embedded database needs"
        " SQLite 3.35.0 or later." in done.err
    )
    assert "To fix: Run ledgerbridge with a Python built with SQLite 3.35.0 or later" in done.err
    assert as_json.json["error"]["code"] == "database_unusable"
    assert not list(cli.home.glob("*.sqlite*"))
