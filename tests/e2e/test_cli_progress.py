"""Long runs show their progress on a terminal, and nothing of it when stderr is a pipe.

The command runs as a user starts it, in a process of its own whose stderr is a pseudo-
terminal (or a pipe); its standard output goes to a file, as the results of a large batch
would fill a pipe nobody reads meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import DATA, repeated_batch

ESCAPE = "\x1b["  # how a terminal is told to move, colour or erase


def _run(home: Path, out: Path, *args: str | Path, terminal: bool) -> str:
    """What the command wrote to stderr; its standard output is left in `out`."""
    command = [sys.executable, "-m", "ledgerbridge", "--home", str(home), *map(str, args)]
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    environment.pop("LEDGERBRIDGE_DATABASE_URL", None)
    with out.open("wb") as stdout:
        if not terminal:
            done = subprocess.run(
                command, stdout=stdout, stderr=subprocess.PIPE, env=environment, timeout=300
            )
            assert done.returncode == 0, done.stderr.decode()
            return done.stderr.decode()
        ours, theirs = os.openpty()
        process = subprocess.Popen(command, stdout=stdout, stderr=theirs, env=environment)
        os.close(theirs)
        written = bytearray()
        while True:
            try:
                data = os.read(ours, 65536)
            except OSError:  # the other end is closed: the command has ended
                break
            if not data:
                break
            written += data
        os.close(ours)
        assert process.wait(timeout=300) == 0, written.decode(errors="replace")
    return written.decode(errors="replace")


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    """A batch of more than a megabyte, the size from which reading it shows progress."""
    path = repeated_batch(tmp_path / "batch.json", 4000)
    assert path.stat().st_size > 1_000_000
    return path


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_a_long_check_shows_its_progress_on_a_terminal_only(
    tmp_path: Path, batch: Path, terminal: bool
) -> None:
    setup = DATA / "e2e_setup.json"

    stderr = _run(
        tmp_path / "home",
        tmp_path / "out.json",
        "ledger",
        "check",
        "--setup",
        setup,
        batch,
        "--json",
        terminal=terminal,
    )

    assert ("Checking" in stderr) == terminal
    assert (ESCAPE in stderr) == terminal
    assert "Checked 4000 entries" in stderr
    assert (tmp_path / "out.json").read_text().startswith('{"results": [')


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_a_long_post_shows_its_progress_on_a_terminal_only(
    tmp_path: Path, batch: Path, terminal: bool
) -> None:
    home = tmp_path / "home"
    _run(
        home,
        tmp_path / "apply.txt",
        "ledger",
        "apply",
        "--setup",
        DATA / "e2e_setup.json",
        terminal=False,
    )

    stderr = _run(home, tmp_path / "out.txt", "ledger", "post", "ACME", batch, terminal=terminal)

    assert ("Posting" in stderr) == terminal
    assert (ESCAPE in stderr) == terminal
    assert "Folder ACME: " in stderr
    assert "accepted  entry 1 of fiscal year" in (tmp_path / "out.txt").read_text()


def test_opening_a_folder_shows_the_entries_handed_to_the_ledger_then_what_is_left(
    tmp_path: Path,
) -> None:
    home, log = tmp_path / "home", tmp_path / "steps.txt"
    batch = repeated_batch(tmp_path / "batch.json", 5000)  # the bar's least
    for step in (
        ("ledger", "apply", "--setup", DATA / "e2e_setup.json"),
        ("client", "connect", "ACME"),
        ("entries", "import", "ACME", batch),
        ("entries", "verify", "ACME", "--all"),
        ("sync", "ACME"),
        ("ledger", "marketplace", "ACME", "--activate", "--accept"),
        ("ledger", "admin-auth"),
    ):
        _run(home, log, *step, terminal=False)

    stderr = _run(home, tmp_path / "out.txt", "ledger", "open", "ACME", terminal=True)

    assert "Injecting ACME" in stderr
    assert "5000/5000" in stderr
    assert "Injecting ACME: posting the last entries, answering" in stderr
    assert "Folder ACME opened; 1 batch injected: 3333 posted" in stderr
