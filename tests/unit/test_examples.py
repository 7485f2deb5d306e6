"""The example documents read as they claim: each entry gets the verdict examples/README.md states."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerbridge.documents import load_document
from ledgerbridge.domain.catalogue import check_rules
from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import BatchReader, Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.setup import FolderSetup, parse_setup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# A row of the verdict table: | `entry-id` | accepted | ... or | `entry-id` | `code` | ...
VERDICT_ROW = re.compile(r"^\| `(?P<id>[^`]+)` \| `?(?P<verdict>[a-z_]+)`? \|")


def _read_json(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def _stated_verdicts() -> dict[str, str]:
    verdicts: dict[str, str] = {}
    for row in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        match = VERDICT_ROW.match(row)
        if match:
            assert match["id"] not in verdicts, f"{match['id']} is stated twice"
            verdicts[match["id"]] = match["verdict"]
    return verdicts


@pytest.fixture(scope="module")
def example_setup() -> FolderSetup:
    return parse_setup(_read_json("acme-setup.json"), source="examples/acme-setup.json")


@pytest.fixture(scope="module")
def example_entries(example_setup: FolderSetup) -> list[Entry]:
    document = _read_json("acme-entries.json")
    reader = BatchReader(expected_folder=example_setup.folder)
    reader.top_level_keys(document)
    reader.header({"folder": document["folder"]})
    entries = [reader.entry(raw) for raw in document["entries"]]
    reader.finish("examples/acme-entries.json")
    return [entry for entry in entries if entry is not None]


@pytest.fixture(scope="module")
def example_results(
    example_setup: FolderSetup, example_entries: list[Entry]
) -> dict[str, CheckResult]:
    folder = FolderIndex.of(example_setup)
    return {entry.id: check_entry(entry, folder) for entry in example_entries}


def test_the_yaml_setup_reads_as_the_same_setup_as_the_json_one(
    example_setup: FolderSetup,
) -> None:
    written_by_hand = parse_setup(load_document(EXAMPLES / "acme-setup.yaml"))

    assert written_by_hand == example_setup


def test_the_example_setup_keeps_2024_closed_and_2025_and_2026_open(
    example_setup: FolderSetup,
) -> None:
    assert [(year.code, year.status) for year in example_setup.fiscal_years] == [
        ("2024", "closed"),
        ("2025", "open"),
        ("2026", "open"),
    ]


def test_the_readme_states_a_verdict_for_every_example_entry_and_no_other(
    example_entries: list[Entry],
) -> None:
    assert sorted(_stated_verdicts()) == sorted(entry.id for entry in example_entries)


def test_each_example_entry_gets_the_verdict_the_readme_states(
    example_results: dict[str, CheckResult],
) -> None:
    got = {
        entry_id: "accepted" if result.accepted else str(result.code)
        for entry_id, result in example_results.items()
    }

    assert got == _stated_verdicts()


def test_the_ids_say_whether_an_entry_is_accepted(
    example_results: dict[str, CheckResult],
) -> None:
    for entry_id, result in example_results.items():
        assert entry_id.startswith("ok-" if result.accepted else "err-"), entry_id


def test_the_example_batch_shows_every_code_as_a_first_code_and_several_acceptances(
    example_results: dict[str, CheckResult],
) -> None:
    first_codes = {result.code for result in example_results.values() if not result.accepted}
    accepted = [result for result in example_results.values() if result.accepted]

    assert first_codes == {rule.code for rule in check_rules()}
    assert len(first_codes) == 11
    assert len(accepted) >= 4
