"""`ledger check` on every core says, byte for byte, what reading the batch in one pass says.

The check of a large JSON batch is shared among forked processes, chunk by chunk; here the
chunks are made tiny so that a small batch is cut in many, and each outcome (verdicts,
malformed documents, duplicate ids across chunks, a batch for another folder, text that is
not UTF-8, an unexpected error) is compared with the one-pass reading's.
"""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge import documents
from ledgerbridge.cli import parallel_check
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from tests.e2e.conftest import DATA, Cli, Outcome

Document = dict[str, Any]
TEMPLATES: list[Document] = json.loads((DATA / "e2e_entries.json").read_text())["entries"]


def _entry(number: int, entry_id: str | None = None, **changes: object) -> Document:
    """An accepted or a rejected entry (by turns), its id `e<number>` unless told."""
    entry = copy.deepcopy(TEMPLATES[number % len(TEMPLATES)])
    entry["id"] = entry_id if entry_id is not None else f"e{number:04d}"
    entry.update(changes)
    return entry


def _write(path: Path, document: Document, *, layout: str = "lines") -> Path:
    """The batch as written by hand (`indent`), one entry a line (`lines`) or all on one."""
    if layout == "indent":
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    elif layout == "lines":
        head = {key: value for key, value in document.items() if key != "entries"}
        lines = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in document["entries"])
        opening = json.dumps(head, ensure_ascii=False)[:-1] + (", " if head else "")
        path.write_text(f'{opening}"entries": [\n{lines}\n]}}\n', encoding="utf-8")
    else:
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _check(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    batch: Path | str,
    processes: int,
    *options: str,
) -> Outcome:
    with monkeypatch.context() as patch:
        patch.setattr(parallel_check, "cores", lambda: processes)
        patch.setattr(parallel_check, "PARALLEL_FROM", 1)
        patch.setattr(parallel_check, "MIN_CHUNK", 2)
        patch.setattr(parallel_check, "CHUNKS_PER_PROCESS", 4)
        return cli("ledger", "check", "--setup", DATA / "e2e_setup.json", batch, *options)


def _same_as_one_pass(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, batch: Path, *options: str
) -> Outcome:
    """The outcome on 2 and 3 processes, checked equal to the one-pass reading's."""
    one_pass = _check(cli, monkeypatch, batch, 1, *options)
    for processes in (2, 3):
        shared = _check(cli, monkeypatch, batch, processes, *options)
        assert shared.code == one_pass.code
        assert shared.out == one_pass.out
        assert shared.err == one_pass.err
    return one_pass


@pytest.fixture
def parallel_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many entries each shared check had: proof that the shared check ran."""
    runs: list[int] = []
    run = parallel_check._Batch.run

    def counted(batch: parallel_check._Batch, processes: int, spool: Any) -> None:
        runs.append(len(batch.items))
        run(batch, processes, spool)

    monkeypatch.setattr(parallel_check._Batch, "run", counted)
    return runs


@pytest.mark.parametrize("layout", ["lines", "indent", "compact"])
@pytest.mark.parametrize("options", [(), ("--json",)])
def test_verdicts_are_those_of_one_pass(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    parallel_runs: list[int],
    layout: str,
    options: tuple[str, ...],
) -> None:
    document = {"folder": "ACME", "entries": [_entry(n) for n in range(61)]}
    outcome = _same_as_one_pass(
        cli, monkeypatch, _write(tmp_path / "batch.json", document, layout=layout), *options
    )
    assert outcome.code == 0
    assert "Checked 61 entries: 41 accepted, 20 rejected." in outcome.err
    assert parallel_runs == [61, 61]


def test_a_large_batch_is_shared_by_the_processes_and_read_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    entries = [_entry(n) for n in range(3000)]
    entries[2999]["id"] = entries[5]["id"]  # a duplicate far from the first
    batch = _write(tmp_path / "batch.json", {"folder": "ACME", "entries": entries})
    processes: set[int] = set()
    merge = parallel_check._Batch.merge

    def seen(batch: parallel_check._Batch, reader: Any, spool: Any) -> None:
        processes.update(chunk.process for chunk in batch.chunks)
        merge(batch, reader, spool)

    monkeypatch.setattr(parallel_check._Batch, "merge", seen)
    monkeypatch.setattr(parallel_check, "MIN_CHUNK", 50)
    outcome = _same_as_one_pass(cli, monkeypatch, batch, "--json")
    assert outcome.code == 2
    assert outcome.json["error"]["problems"] == [
        {"path": "entries[2999].id", "message": "duplicate id 'e0005' (also entries[5])"}
    ]
    assert processes  # which process took which chunk is up to them


def test_every_problem_of_a_malformed_batch_is_told_in_document_order(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    entries: list[object] = [_entry(n) for n in range(48)]
    entries[1] = _entry(1, "dup")
    entries[3] = _entry(3, date="2025-13-01")
    entries[5]["lines"][0]["debt"] = "1.00"  # type: ignore[index]
    entries[8] = _entry(8, "twin")
    entries[9] = _entry(9, "twin")  # a duplicate in the same chunk
    entries[17] = _entry(17, "dup")
    entries[25] = _entry(25, "dup", date="yesterday")  # malformed, and its id a duplicate
    entries[30] = "not an entry"
    entries[33] = _entry(33, "")
    entries[40] = _entry(40, "dup")
    entries[41] = _entry(41, "later", lines="none")
    entries[47] = _entry(47, "later")
    batch = _write(tmp_path / "batch.json", {"folder": "ACME", "entries": entries})
    as_json = _same_as_one_pass(cli, monkeypatch, batch, "--json")
    assert as_json.code == 2
    assert len(as_json.json["error"]["problems"]) == 11
    outcome = _same_as_one_pass(cli, monkeypatch, batch)
    assert outcome.code == 2
    assert outcome.out == ""
    told = [
        line.strip().split(":", 1)[0]
        for line in outcome.err.splitlines()[1:]
        if line.startswith("  ")
    ]
    assert told == [
        "entries[3].date",
        "entries[5].lines[0].debt",
        "entries[9].id",
        "entries[17].id",
        "entries[25].date",
        "entries[25].id",
        "entries[30]",
        "entries[33].id",
        "entries[40].id",
        "entries[41].lines",
        "entries[47].id",
    ]
    assert "entries[40].id: duplicate id 'dup' (also entries[1])" in outcome.err
    assert "entries[9].id: duplicate id 'twin' (also entries[8])" in outcome.err
    assert parallel_runs


def test_a_key_given_twice_in_an_entry_read_exactly_is_told_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    entries = [_entry(n) for n in range(24)]
    batch = _write(tmp_path / "batch.json", {"folder": "ACME", "entries": entries})
    text = batch.read_text(encoding="utf-8")
    at = text.index('"e0013"')
    debit = text.index('"debit": ', at)  # the first debit of entries[13], written again
    # With a field the format does not know, the entry is read exactly: both are told.
    twice = text[:debit] + '"debt": "1.00", "debit": "999.00", ' + text[debit:]
    batch.write_text(twice, encoding="utf-8")

    outcome = _same_as_one_pass(cli, monkeypatch, batch)

    assert outcome.code == 2
    assert "entries[13].lines[0].debit: given twice" in outcome.err
    assert "entries[13].lines[0].debt: unknown field" in outcome.err
    assert parallel_runs


@pytest.mark.parametrize(
    "head",
    [
        {"folder": "OTHER"},
        {},
        {"folder": None, "extra": 1},
        {"folder": "ACME", "comment": "entries", "entries_count": 3},
    ],
)
def test_a_batch_for_another_folder_or_without_one_is_told_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, head: Document
) -> None:
    document = {**head, "entries": [_entry(n) for n in range(12)]}
    outcome = _same_as_one_pass(
        cli, monkeypatch, _write(tmp_path / "batch.json", document), "--json"
    )
    assert outcome.code == 2


@pytest.mark.parametrize(
    "text",
    [
        '{"folder": "ACME", "folder": "ACME", "entries": [ENTRIES]}',
        '{"entries": [], "folder": "ACME", "entries": [ENTRIES]}',
        '{"folder": "ACME", "entries": [ENTRIES], "folder": "ACME"}',
        '{"folder": "ACME", "entries": [ENTRIES], "entries": [ENTRIES]}',
        '{"\\u0066older": "ACME", "folder": "ACME", "entries": [ENTRIES]}',
        '{"folder": "ACME", "entries": "all of them"}',
        '{"folder": "ACME", "entries": [ENTRIES]',
        '{"folder": "ACME", "entries": [ENTRIES, ' + "[" * 100_000 + "]" * 100_000 + "]}",
    ],
)
def test_a_batch_whose_top_level_is_wrong_is_told_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str
) -> None:
    entries = ",\n".join(json.dumps(_entry(n)) for n in range(12))
    batch = tmp_path / "batch.json"
    batch.write_text(text.replace("ENTRIES", entries), encoding="utf-8")
    outcome = _same_as_one_pass(cli, monkeypatch, batch, "--json")
    assert outcome.code == 2
    if "[[[" in text:
        assert "nested too deep to be read" in outcome.out


def test_text_that_is_not_utf8_is_told_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    entries = [_entry(n) for n in range(20)]
    entries[13]["label"] = "LABEL"
    text = _write(tmp_path / "x.json", {"folder": "ACME", "entries": entries}).read_bytes()
    batch = tmp_path / "batch.json"
    batch.write_bytes(text.replace(b"LABEL", b"caf\xe9"))
    outcome = _same_as_one_pass(cli, monkeypatch, batch)
    assert outcome.code == 2
    assert "not UTF-8 text" in outcome.err
    assert parallel_runs


def test_an_unexpected_error_is_told_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing(entry: Any, folder: FolderIndex) -> CheckResult:
        if entry.id in {"e0011", "e0017"}:
            raise LookupError(f"no rule for {entry.id}")
        return check_entry(entry, folder)

    monkeypatch.setattr(parallel_check, "check_entry", failing)
    document = {"folder": "ACME", "entries": [_entry(n) for n in range(24)]}
    outcome = _same_as_one_pass(cli, monkeypatch, _write(tmp_path / "batch.json", document))
    assert outcome.code == 1
    assert "(LookupError: no rule for e0011)" in outcome.err
    assert outcome.out == ""
    log = (cli.home / "ledgerbridge.log").read_text(encoding="utf-8").splitlines()
    assert len(log) == 3  # once per run, its details kept
    assert all(json.loads(line)["event"] == "unexpected_error" for line in log)


def test_a_batch_from_standard_input_is_read_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    text = _write(
        tmp_path / "batch.json", {"folder": "ACME", "entries": [_entry(n) for n in range(30)]}
    ).read_bytes()
    outcomes = []
    for processes in (1, 2):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
        outcomes.append(_check(cli, monkeypatch, "-", processes, "--json"))
    assert outcomes[0].code == outcomes[1].code == 0
    assert outcomes[0].out == outcomes[1].out
    assert len(outcomes[1].json["results"]) == 30
    assert parallel_runs == [30]


def test_a_yaml_batch_and_a_small_one_are_read_in_one_pass(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    yaml_batch = tmp_path / "batch.yaml"
    yaml_batch.write_text(json.dumps({"folder": "ACME", "entries": [_entry(1), _entry(2)]}))
    assert _check(cli, monkeypatch, yaml_batch, 2).code == 0
    small = _write(tmp_path / "batch.json", {"folder": "ACME", "entries": [_entry(1)]})
    monkeypatch.setattr(parallel_check, "cores", lambda: 2)
    assert cli("ledger", "check", "--setup", DATA / "e2e_setup.json", small).code == 0
    assert parallel_runs == []


def test_the_check_of_a_document_imports_no_database_nor_log(tmp_path: Path) -> None:
    """A check starts fast: what opens a database, writes the log or draws on a terminal is
    not even imported (its output going to pipes)."""
    program = (
        "import sys\n"
        "from ledgerbridge.cli.app import run\n"
        f"code = run(['--home', {str(tmp_path / 'home')!r}, 'ledger', 'check', '--setup',"
        f" {str(DATA / 'e2e_setup.json')!r}, {str(DATA / 'e2e_entries.json')!r}])\n"
        "heavy = ['sqlalchemy', 'alembic', 'psycopg', 'structlog', 'yaml', 'ijson', 'rich',"
        " 'ledgerbridge.db', 'ledgerbridge.platform', 'ledgerbridge.ledger',"
        " 'ledgerbridge.workspace', 'ledgerbridge.relay']\n"
        "print(code, [name for name in heavy if name in sys.modules])\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert process.stdout.splitlines()[-1] == "0 []"


def test_when_no_process_can_be_started_this_one_checks_alone(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    document = {"folder": "ACME", "entries": [_entry(n) for n in range(30)]}
    batch = _write(tmp_path / "batch.json", document)
    one_pass = _check(cli, monkeypatch, batch, 1, "--json")

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr("os.fork", no_fork)
    alone = _check(cli, monkeypatch, batch, 2, "--json")
    assert (alone.code, alone.out, alone.err) == (one_pass.code, one_pass.out, one_pass.err)
    assert parallel_runs == [30]


def test_a_top_level_the_exact_reading_refuses_is_told_alike(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel_runs: list[int]
) -> None:
    def refusing(data: object, source: str) -> list[str]:
        raise MalformedDocument([Problem("", "not valid JSON: refused")], source=source)

    monkeypatch.setattr(documents, "_top_level_keys", refusing)
    entries = ",\n".join(json.dumps(_entry(n)) for n in range(12))
    batch = tmp_path / "batch.json"
    batch.write_text(f'{{"folder": "ACME", "folder": "ACME", "entries": [{entries}]}}')
    outcome = _same_as_one_pass(cli, monkeypatch, batch, "--json")
    assert outcome.code == 2
    assert outcome.json["error"]["problems"] == [{"path": "", "message": "not valid JSON: refused"}]
    assert parallel_runs
