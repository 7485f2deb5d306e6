"""The command's output, whole or refused with a word: under --json standard output holds one
whole object even when Ctrl-C comes while it is written; an output that cannot be written
(a full disk, standard output closed) is told on stderr, never as a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerbridge.cli.results import ResultSpool
from tests.e2e.conftest import Cli

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
SETUP, ENTRIES = EXAMPLES / "acme-setup.json", EXAMPLES / "acme-entries.json"


def _interrupted_while_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (SIGINT to this process) as the results start being written."""
    publish = ResultSpool._publish

    def interrupted(spool: ResultSpool) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        publish(spool)

    monkeypatch.setattr(ResultSpool, "_publish", interrupted)


def test_ctrl_c_while_a_posting_s_results_are_told_leaves_them_whole(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ledger", "apply", "--setup", SETUP).code == 0
    _interrupted_while_told(monkeypatch)

    done = cli("--json", "ledger", "post", "ACME", ENTRIES)

    assert done.code == 0
    assert len(done.json["results"]) == 20  # one whole object, nothing after it
    assert "Folder ACME: 6 accepted, 14 rejected." in done.err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_a_check_s_json_is_written_leaves_one_whole_object(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupted_while_told(monkeypatch)

    done = cli("ledger", "check", "--setup", SETUP, ENTRIES, "--json")

    assert done.code == 0
    assert len(done.json["results"]) == 20


def test_ctrl_c_while_a_check_s_text_is_written_stops_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupted_while_told(monkeypatch)

    done = cli("ledger", "check", "--setup", SETUP, ENTRIES)

    assert done.code == 130
    assert done.err.startswith("Interrupted.")


def _check_told_to(home: Path, *options: str, **streams: object) -> tuple[int, str]:
    """`ledger check` of the example, run as a user runs it; its exit code and stderr."""
    command = [sys.executable, "-m", "ledgerbridge", "--home", str(home), "ledger", "check"]
    done = subprocess.run(
        [*command, "--setup", str(SETUP), str(ENTRIES), *options],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
        **streams,  # type: ignore[call-overload]
    )
    return int(done.returncode), str(done.stderr)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("as_json", [False, True])
def test_an_output_on_a_full_disk_is_told_without_a_traceback(
    tmp_path: Path, as_json: bool
) -> None:
    json_option = ["--json"] if as_json else []
    with Path("/dev/full").open("w") as full:
        code, err = _check_told_to(tmp_path, *json_option, stdout=full)

    assert code == 1
    assert "Traceback" not in err
    assert err.splitlines() == [
        "ledgerbridge could not write its output: No space left on device. What was"
        " committed before stays: running the command again is safe.",
        "To fix: Send the output to a terminal, a pipe or a file on a disk with room to spare.",
    ]


def test_a_closed_standard_output_is_told_without_a_traceback(tmp_path: Path) -> None:
    # The command's own standard output closed, as `command >&-` leaves it.
    code, err = _check_told_to(tmp_path, "--json", preexec_fn=lambda: os.close(1))

    assert code == 1
    assert "Traceback" not in err
    assert "could not write its output: standard output is closed" in err
