"""Chunks checked by any process, in any order, put back together read as one pass reads.

No process is forked here: chunks are handed to `_Batch.work` one at a time under the
number of a process, their reports taken in a shuffled order, then merged.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.cli import parallel_check
from ledgerbridge.cli.parallel_check import _KEYS, _NUMBER, _Batch, _Report, chunk_bounds
from ledgerbridge.cli.results import ResultSpool
from ledgerbridge.documents import json_batch, json_entries, plain_json_batch, read_setup
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import BatchReader
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.malformed import Problem

DATA = Path(__file__).parent.parent / "data"
SETUP = read_setup(DATA / "e2e_setup.json")
FOLDER = FolderIndex.of(SETUP)
TEMPLATES: list[dict[str, Any]] = json.loads((DATA / "e2e_entries.json").read_text())["entries"]


def _batch_text(seed: int) -> bytes:
    """Entries accepted and rejected, some malformed, ids repeated near and far."""
    rng = random.Random(seed)
    ids = [f"e{n}" for n in range(12)]
    entries: list[object] = []
    for number in range(rng.randint(20, 90)):
        entry = dict(TEMPLATES[number % 3])
        entry["id"] = rng.choice(ids) if rng.random() < 0.3 else f"n{number}"
        if rng.random() < 0.1:
            entry["date"] = "2026-02-30"
        if rng.random() < 0.05:
            entry["id"] = ""
        entries.append(entry if rng.random() > 0.03 else [entry])
    return json.dumps({"folder": "ACME", "entries": entries}).encode()


def _one_pass(data: bytes, as_json: bool) -> tuple[list[Problem], str]:
    reader = BatchReader(expected_folder="ACME", folder_required=True)
    items = json_batch(data, reader, "batch")
    with ResultSpool(as_json) as spool:
        for entry in json_entries(items, reader, "batch"):
            spool.add(check_entry(entry, FOLDER))
        return reader.problems, _published(spool)


def _published(spool: ResultSpool) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        spool.publish()
    return out.getvalue() + f"{spool.accepted}/{spool.rejected}"


def _shared(data: bytes, as_json: bool, processes: int, seed: int) -> tuple[list[Problem], str]:
    rng = random.Random(seed)
    reader = BatchReader(expected_folder="ACME", folder_required=True)
    plain = plain_json_batch(data)
    assert plain is not None
    batch = _Batch(plain, data, FOLDER, "batch")
    batch.bounds = chunk_bounds(len(plain.items), processes)
    with ResultSpool(as_json) as spool:
        writers = [spool.writer() for _ in range(processes)]
        batch.files = [writer.file for writer in writers]
        reports: list[_Report] = []
        for number in [_KEYS, *range(len(batch.bounds) - 1)]:
            take, give = os.pipe()
            os.write(give, _NUMBER.pack(number))
            os.close(give)
            process = rng.randrange(processes)
            batch.work(process, writers[process], take, reports.append)
            os.close(take)
        rng.shuffle(reports)
        for report in reports:
            batch._take(report)
        batch.merge(reader, spool)
        return reader.problems, _published(spool)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("as_json", [False, True])
def test_chunks_merged_in_any_order_read_as_one_pass(
    monkeypatch: pytest.MonkeyPatch, seed: int, as_json: bool
) -> None:
    monkeypatch.setattr(parallel_check, "MIN_CHUNK", 1 + seed % 4)
    monkeypatch.setattr(parallel_check, "CHUNKS_PER_PROCESS", 3)
    data = _batch_text(seed)
    assert _shared(data, as_json, 2 + seed % 3, seed) == _one_pass(data, as_json)


def test_the_first_error_in_document_order_is_the_one_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(entry: Any, folder: FolderIndex) -> Any:
        if entry.id in {"n7", "n30"}:
            raise LookupError(entry.id)
        return check_entry(entry, folder)

    monkeypatch.setattr(parallel_check, "check_entry", failing)
    monkeypatch.setattr(parallel_check, "MIN_CHUNK", 3)
    entries = [{**TEMPLATES[n % 3], "id": f"n{n}"} for n in range(40)]
    data = json.dumps({"folder": "ACME", "entries": entries}).encode()
    for seed in range(10):
        with pytest.raises(LookupError, match=r"^n7$"):
            _shared(data, False, 3, seed)


@pytest.mark.parametrize("entries", [1, 249, 20_000, 100_000, 334_000, 10_000_000])
@pytest.mark.parametrize("processes", [2, 3, 8])
def test_chunks_cover_the_batch_and_grow_smaller_towards_its_end(
    entries: int, processes: int
) -> None:
    bounds = chunk_bounds(entries, processes)
    sizes = [stop - start for start, stop in itertools.pairwise(bounds)]
    assert bounds[0] == 0
    assert bounds[-1] == entries
    assert all(size > 0 for size in sizes)
    assert all(size >= after for size, after in itertools.pairwise(sizes))
    assert len(sizes) * _NUMBER.size <= 65536  # their numbers fit in a pipe
    if entries >= 20_000:
        assert sizes[-2] <= 2 * parallel_check.MIN_CHUNK
