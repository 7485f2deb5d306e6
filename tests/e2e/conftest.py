"""Running the `ledgerbridge` command in-process, as a user types it."""

from __future__ import annotations

import copy
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.cli.app import run

DATA = Path(__file__).parent.parent / "data"
TEMPLATES: list[dict[str, Any]] = json.loads((DATA / "e2e_entries.json").read_text())["entries"]


def repeated_batch(path: Path, count: int, **changes: Any) -> Path:
    """A batch for folder ACME of `count` entries, the example entries over and over under
    ids of their own; `at3={"date": ...}` changes entry 3."""
    entries = []
    for number in range(count):
        entry = copy.deepcopy(TEMPLATES[number % len(TEMPLATES)])
        entry["id"] = f"e{number:04d}"
        entries.append(entry)
    for index, change in changes.items():
        entries[int(index.removeprefix("at"))].update(change)
    path.write_text(json.dumps({"folder": "ACME", "entries": entries}), encoding="utf-8")
    return path


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self._capsys = capsys

    def __call__(self, *args: str | Path) -> Outcome:
        self._capsys.readouterr()
        code = run(["--home", str(self.home), *map(str, args)])
        captured = self._capsys.readouterr()
        assert "Traceback" not in captured.err
        return Outcome(code, captured.out, captured.err)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.delenv("LEDGERBRIDGE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return Cli(tmp_path / "home", capsys)


@pytest.fixture
def setup_file() -> Path:
    return DATA / "e2e_setup.json"


@pytest.fixture
def entries_file() -> Path:
    return DATA / "e2e_entries.json"


def writer_busy(database: Path) -> bool:
    """Whether another process holds SQLite's write lock (the ledger posting a batch)."""
    connection = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return True
        raise
    else:
        connection.execute("ROLLBACK")
        return False
    finally:
        connection.close()
