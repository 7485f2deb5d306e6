"""`ledger post` of a large batch, read by several processes, as a user's terminal and
scripts treat it: Ctrl-C stops it with a word and exit 130, storing nothing; a command
started with Ctrl-C ignored (a script's background job) ignores it; and the batch posted is
the file as it was when the posting began."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import DATA, Cli, repeated_batch, writer_busy

ENTRIES = 40_000  # about a second of posting: time to act in the middle
PATIENCE_SECONDS = 60.0  # only a stuck process reaches it


def _post_and(
    home: Path, batch: Path, act: Callable[[subprocess.Popen[bytes]], None], **options: object
) -> tuple[int, str, str]:
    """`ledger post ACME batch --json` in a session of its own, `act` done to it once it
    posts; its exit code, stdout and stderr."""
    command = [sys.executable, "-m", "ledgerbridge", "--home", str(home)]
    command += ["ledger", "post", "ACME", str(batch), "--json"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **options,  # type: ignore[call-overload]
    )
    deadline = time.monotonic() + PATIENCE_SECONDS
    try:
        while not writer_busy(home / "ledgerbridge.sqlite"):
            assert process.poll() is None, "the post ended before it began to store"
            assert time.monotonic() < deadline, "the post never began to store"
            time.sleep(0.005)
        act(process)
        out, err = process.communicate(timeout=PATIENCE_SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode, out.decode(), err.decode()


def _left_running(home: Path) -> list[str]:
    """The ledgerbridge processes still working on `home`."""
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if f"--home {home} " in line]


def _posted(cli: Cli) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = cli("ledger", "entries", "ACME", "--json").json["entries"]
    return entries


@pytest.fixture
def batch(cli: Cli, tmp_path: Path) -> Path:
    outcome = cli("ledger", "apply", "--setup", DATA / "e2e_setup.json")
    assert outcome.code == 0, outcome.err
    return repeated_batch(tmp_path / "batch.json", ENTRIES)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the batch is posted alone")
def test_ctrl_c_stops_the_post_with_exit_130_and_stores_nothing(cli: Cli, batch: Path) -> None:
    def ctrl_c(process: subprocess.Popen[bytes]) -> None:
        time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)  # as a terminal sends it: to the whole group

    code, out, err = _post_and(cli.home, batch, ctrl_c)

    assert code == 130, err
    assert "Interrupted." in err
    assert json.loads(out)["error"]["code"] == "interrupted"
    assert _posted(cli) == []
    time.sleep(0.2)
    assert _left_running(cli.home) == []
    again = cli("ledger", "post", "ACME", batch, "--json")
    assert again.code == 0, again.err
    assert len(_posted(cli)) > ENTRIES // 2


def test_a_post_started_ignoring_ctrl_c_ignores_it(cli: Cli, batch: Path) -> None:
    def ctrl_c(process: subprocess.Popen[bytes]) -> None:
        time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)

    def ignoring() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    code, out, err = _post_and(cli.home, batch, ctrl_c, preexec_fn=ignoring)

    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == ENTRIES
    assert len(_posted(cli)) == sum(result["status"] == "accepted" for result in results)


def test_the_batch_posted_is_the_file_as_it_was_when_the_post_began(
    cli: Cli, batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = batch.read_bytes()
    changed = original.replace(b'"ACH"', b'"VTE"')  # the same length, other content
    assert changed != original and len(changed) == len(original)

    def rewrite_in_place(_: subprocess.Popen[bytes]) -> None:
        with batch.open("r+b") as file:
            file.write(changed)

    code, _, err = _post_and(cli.home, batch, rewrite_in_place)

    assert code == 0, err
    expected_cli = Cli(tmp_path / "expected", capsys)
    expected_cli("ledger", "apply", "--setup", DATA / "e2e_setup.json")
    (tmp_path / "original.json").write_bytes(original)
    expected_cli("ledger", "post", "ACME", tmp_path / "original.json")
    journals = {entry["id"]: entry["journal"] for entry in _posted(cli)}
    assert journals == {entry["id"]: entry["journal"] for entry in _posted(expected_cli)}
