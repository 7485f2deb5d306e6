"""Every verb's `--help`, as a user reads it: in words, never pointing at the SPEC's sections."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from ledgerbridge.cli.app import app
from tests.e2e.conftest import Cli


def _verbs(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The command line of every group and verb under `command` (typer's own click)."""
    found = [path]
    if hasattr(command, "commands"):
        for name, sub in sorted(command.commands.items()):
            found.extend(_verbs(sub, (*path, name)))
    return found


VERBS = _verbs(typer.main.get_command(app))


def test_the_walk_finds_the_verbs_of_every_group() -> None:
    for verb in [("entries", "import"), ("client", "connect"), ("ledger", "open"), ("doctor",)]:
        assert verb in VERBS


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: " ".join(verb) or "ledgerbridge")
def test_no_help_text_cites_a_section_of_the_spec(cli: Cli, verb: tuple[str, ...]) -> None:
    outcome = cli(*verb, "--help")

    assert outcome.code == 0
    assert "Usage:" in outcome.out
    assert "§" not in outcome.out


def test_entries_import_says_what_happens_to_ids_already_there(cli: Cli) -> None:
    said = " ".join(cli("entries", "import", "--help").out.split())

    assert "becomes a new revision, back to To verify" in said
    assert "synchronizing, synchronized or excluded (then left as it is)" in said


def test_client_connect_says_what_the_reference_file_holds(cli: Cli) -> None:
    said = " ".join(cli("client", "connect", "--help").out.replace("│", " ").split())

    assert "`accounts` and `third_parties`, each written as in a folder setup" in said
