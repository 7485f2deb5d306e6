"""`ledger post` of a large batch, read and checked in a forked process, says and stores what
posting it in one process does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from ledgerbridge.cli import ledger as ledger_cli
from ledgerbridge.ledger import forked_posting
from tests.e2e.conftest import DATA, Cli, Outcome, repeated_batch


def _post(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, batch: Path, *, forked: bool, json_output: bool
) -> tuple[Outcome, Outcome]:
    """The posting's outcome, then the ledger's entries."""
    with monkeypatch.context() as patch:
        patch.setattr(ledger_cli, "may_fork", lambda: True)
        patch.setattr(ledger_cli, "FORKED_FROM_BYTES", 0 if forked else 1 << 62)
        cli("ledger", "apply", "--setup", DATA / "e2e_setup.json")
        options = ("--json",) if json_output else ()
        posted = cli("ledger", "post", "ACME", batch, *options)
        return posted, cli("ledger", "entries", "ACME", "--json")


class Runs(NamedTuple):
    """The same batch posted on two fresh homes: in one process, then forked."""

    alone: tuple[Outcome, Outcome]
    forked: tuple[Outcome, Outcome]


@pytest.fixture
def post_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Runs]:
    """Posts a batch in one process, then forked; checks a forked process was used, and
    only the second time."""
    forks: list[int] = []
    post = forked_posting.post_batch_forked

    def counting(*args: Any, **options: Any) -> Any:
        forks.append(1)
        return post(*args, **options)

    monkeypatch.setattr(forked_posting, "post_batch_forked", counting)

    def run(batch: Path, *, json_output: bool) -> Runs:
        alone = _post(
            Cli(tmp_path / "alone", capsys),
            monkeypatch,
            batch,
            forked=False,
            json_output=json_output,
        )
        assert forks == []
        forked = _post(
            Cli(tmp_path / "forked", capsys),
            monkeypatch,
            batch,
            forked=True,
            json_output=json_output,
        )
        assert forks == [1]
        return Runs(alone, forked)

    return run


@pytest.mark.parametrize("json_output", [False, True])
def test_a_forked_posting_says_and_stores_what_one_process_does(
    tmp_path: Path, post_both: Callable[..., Runs], json_output: bool
) -> None:
    alone, forked = post_both(
        repeated_batch(tmp_path / "batch.json", 2500), json_output=json_output
    )
    assert forked[0] == alone[0]
    assert forked[0].code == 0
    assert _without_times(forked[1].json) == _without_times(alone[1].json)
    assert len(forked[1].json["entries"]) > 1000


def _without_times(listing: Any) -> Any:
    for entry in listing["entries"]:
        entry.pop("posted_at", None)
    return listing


def test_a_malformed_entry_late_in_the_batch_refuses_it_whole(
    tmp_path: Path, post_both: Callable[..., Runs]
) -> None:
    batch = repeated_batch(tmp_path / "batch.json", 2500, at2400={"date": "2026-02-30"})
    alone, forked = post_both(batch, json_output=False)
    assert forked[0] == alone[0]
    assert forked[0].code == 2
    assert "entries[2400].date" in forked[0].err
    assert forked[1].json["entries"] == []


@pytest.mark.parametrize(
    "text",
    [
        '{"folder": "ACME", "entries": [{"id": "a"}',  # cut short
        '{"folder": "OTHER", "entries": []}',  # another folder's batch
        b'{"folder": "ACME", "entries": [{"id": "\xff"}]}',  # not UTF-8
        '{"folder": "ACME", "entries": [' + "[" * 100_000 + "]" * 100_000 + "]}",  # too deep
    ],
    ids=["cut short", "another folder", "not UTF-8", "nested too deep"],
)
def test_a_batch_refused_whole_is_refused_alike(
    tmp_path: Path, post_both: Callable[..., Runs], text: str | bytes
) -> None:
    batch = tmp_path / "batch.json"
    if isinstance(text, bytes):
        batch.write_bytes(text)
    else:
        batch.write_text(text, encoding="utf-8")
    alone, forked = post_both(batch, json_output=True)
    assert forked[0] == alone[0]
    assert forked[0].code == 2
    assert forked[1].json["entries"] == []


def test_problems_found_by_several_processes_are_told_in_the_order_of_one(
    tmp_path: Path, post_both: Callable[..., Runs]
) -> None:
    # Far apart, in chunks that different processes read: ids given twice, a bad date, an
    # unknown field; the first chunk's reader also reads the top-level keys.
    batch = repeated_batch(
        tmp_path / "batch.json",
        2500,
        at5={"id": "e2300"},
        at1200={"date": "2026-13-01"},
        at2300={"colour": "blue"},
        at2490={"id": "e0100"},
    )
    alone, forked = post_both(batch, json_output=False)
    assert forked[0] == alone[0]
    assert forked[0].code == 2
    err = forked[0].err
    told = [err.index(path) for path in ("entries[1200].date", "entries[2300]", "entries[2490]")]
    assert told == sorted(told)
    assert forked[1].json["entries"] == []
