"""A real `kill -9` of `sync` between marking its entries synchronizing and the relay's
confirmation (SPEC §3): the client is not held by the dead sync, the next Synchronize
deposits the batch again at once, and the opening posts every entry once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import Cli
from tests.e2e.test_kill_during_injection import ENTRIES, PATIENCE_SECONDS, verified_entries


def unconfirmed_deposit(database: Path) -> bool | None:
    """Whether the sync's batch waits for the relay's confirmation (None: no batch yet)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT deposited_at FROM ws_outbox WHERE kind = 'entries'"
        ).fetchone()
    except sqlite3.OperationalError:  # the schema is not there yet
        return None
    finally:
        connection.close()
    return None if row is None else row[0] is None


def sync_and_kill_before_the_confirmation(home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ledgerbridge", "--home", str(home), "sync", "ACME"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while (waiting := unconfirmed_deposit(home / "ledgerbridge.sqlite")) is None:
            finished = process.poll()
            assert finished is None, f"`sync` ended ({finished}) before it marked its entries: " + (
                process.stderr.read().decode() if process.stderr else ""
            )
            assert time.monotonic() < deadline, "`sync` never marked its entries"
            time.sleep(0.002)
        assert waiting, "the deposit was confirmed before the kill: no window left"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(PATIENCE_SECONDS)
    assert process.returncode == -signal.SIGKILL


def test_kill_9_during_sync_then_synchronize_again_at_once_sends_every_entry_exactly_once(
    cli: Cli, tmp_path: Path
) -> None:
    ids = verified_entries(cli, tmp_path)
    sync_and_kill_before_the_confirmation(cli.home)

    listed = cli("entries", "list", "ACME", "--json").json["entries"]
    assert {row["status"] for row in listed} == {"synchronizing"}
    again = cli("sync", "ACME", "--json")
    assert again.code == 0, again.err
    assert (again.json["sync"]["resent"], again.json["sync"]["sent"]) == (ENTRIES, 0)

    opened = cli("ledger", "open", "ACME", "--json")

    assert opened.code == 0, opened.err
    opening = opened.json["opening"]
    assert (opening["posted"], opening["replayed"], opening["rejected"]) == (ENTRIES, 0, 0)
    posted = cli("ledger", "entries", "ACME", "--json").json["entries"]
    assert sorted(entry["id"] for entry in posted) == ids
    rows = cli("entries", "list", "ACME", "--json").json["entries"]
    assert {row["status"] for row in rows} == {"synchronized"}
    for entry_id in (ids[0], ids[-1]):
        history = cli("entries", "history", "ACME", entry_id, "--json").json["history"]
        assert [line["to"] for line in history].count("synchronizing") == 1
        assert [line["to"] for line in history].count("synchronized") == 1
