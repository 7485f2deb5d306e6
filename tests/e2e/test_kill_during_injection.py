"""A real `kill -9` of `ledger open` in the middle of a large injection (SPEC §3, exactly once):
the next opening posts every entry once, and every workspace entry ends synchronized once,
under the number the ledger gave it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import DATA, Cli, writer_busy

ENTRIES = 20_000
# Generous bounds that only a stuck process reaches; they are not what the test measures.
PATIENCE_SECONDS = 60.0
# Once the ledger's transaction has begun, let it post a part of the batch first (the
# whole batch takes about a quarter of a second).
INTO_THE_POSTING_SECONDS = 0.05


def invoice(number: int) -> dict[str, Any]:
    return {
        "id": f"inv-{number:05d}",
        "journal": "ACH",
        "date": "2026-03-14",
        "reference": f"F{number:05d}",
        "label": "EDF mars 2026",
        "lines": [
            {
                "account": "606100",
                "label": "EDF",
                "debit": "100.00",
                "analytics": [{"axis": "SITE", "section": "PARIS", "amount": "100.00"}],
            },
            {"account": "445660", "label": "TVA", "debit": "20.00"},
            {"account": "401000", "auxiliary": "FEDF", "label": "EDF", "credit": "120.00"},
        ],
    }


def open_and_kill_while_posting(home: Path) -> None:
    """Run `ledger open ACME` in its own process and kill it (SIGKILL) while it posts."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ledgerbridge", "--home", str(home), "ledger", "open", "ACME"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment,
    )
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not writer_busy(home / "ledgerbridge.sqlite"):
            finished = process.poll()
            assert finished is None, (
                f"`ledger open` ended ({finished}) before it began to post: "
                + (process.stderr.read().decode() if process.stderr else "")
            )
            assert time.monotonic() < deadline, "`ledger open` never began to post"
            time.sleep(0.005)
        time.sleep(INTO_THE_POSTING_SECONDS)
        assert process.poll() is None, "`ledger open` ended before the kill"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(PATIENCE_SECONDS)
    assert process.returncode == -signal.SIGKILL


def verified_entries(cli: Cli, tmp_path: Path) -> list[str]:
    """Folder ACME linked (connector active, administrator authenticated) and its client's
    ENTRIES invoices imported and marked verified; their ids."""
    batch = tmp_path / "entries.json"
    batch.write_text(
        json.dumps({"folder": "ACME", "entries": [invoice(n) for n in range(ENTRIES)]})
    )
    for step in (
        ("ledger", "apply", "--setup", DATA / "e2e_setup.json"),
        ("client", "connect", "ACME"),
        ("ledger", "marketplace", "ACME", "--activate", "--accept"),
        ("ledger", "admin-auth"),
        ("entries", "import", "ACME", batch),
        ("entries", "verify", "ACME", "--all"),
    ):
        outcome = cli(*step)
        assert outcome.code == 0, (step, outcome.err)
    return [f"inv-{n:05d}" for n in range(ENTRIES)]


def test_kill_9_during_injection_then_reopening_posts_every_entry_exactly_once(
    cli: Cli, tmp_path: Path
) -> None:
    ids = verified_entries(cli, tmp_path)
    synced = cli("sync", "ACME")
    assert synced.code == 0, synced.err

    open_and_kill_while_posting(cli.home)

    # Killed mid-injection: the batch still waits, and the ledger holds all of it or none.
    connector = cli("ledger", "marketplace", "ACME", "--json").json["connector"]
    assert connector["waiting_batches"] == 1
    posted_before = len(cli("ledger", "entries", "ACME", "--json").json["entries"])
    assert posted_before in (0, ENTRIES)
    listed = cli("entries", "list", "ACME", "--json").json["entries"]
    assert {row["status"] for row in listed} == {"synchronizing"}

    reopened = cli("ledger", "open", "ACME", "--json")

    assert reopened.code == 0, reopened.err
    opening = reopened.json["opening"]
    assert (opening["posted"] + opening["replayed"], opening["rejected"]) == (ENTRIES, 0)
    assert opening["replayed"] == posted_before
    posted = cli("ledger", "entries", "ACME", "--json").json["entries"]
    assert sorted(entry["id"] for entry in posted) == ids
    numbers = {entry["id"]: entry["number"] for entry in posted}
    assert sorted(numbers.values()) == list(range(1, ENTRIES + 1))
    rows = cli("entries", "list", "ACME", "--json").json["entries"]
    assert sorted(row["id"] for row in rows) == ids
    assert {row["status"] for row in rows} == {"synchronized"}
    assert {row["id"]: row["entry_number"] for row in rows} == numbers
    for entry_id in (ids[0], ids[ENTRIES // 2], ids[-1]):
        history = cli("entries", "history", "ACME", entry_id, "--json").json["history"]
        assert [line["to"] for line in history].count("synchronized") == 1
    assert cli("ledger", "marketplace", "ACME", "--json").json["connector"]["waiting_batches"] == 0
