"""`ledgerbridge scheduler` and `nightly` end to end: each client's pass said on the terminal."""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from ledgerbridge.cli import synchronize
from tests.e2e.conftest import Cli


class OneLook(threading.Event):
    """A stop event that is set once the scheduler has looked at the clock once."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


@pytest.fixture
def nightly_acme(cli: Cli, setup_file: Path, entries_file: Path) -> Cli:
    """ACME's client sends nightly at 00:00, so its pass is due at any hour of the day."""
    assert cli("ledger", "apply", "--setup", setup_file).code == 0
    assert cli("client", "connect", "ACME", "--auto-send", "nightly").code == 0
    assert cli("client", "set", "ACME", "--at", "00:00").code == 0
    assert cli("entries", "import", "ACME", entries_file).code == 0
    assert cli("entries", "verify", "ACME", "--all").code == 0
    return cli


def run_scheduler_once(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run `ledgerbridge scheduler` for one look at the clock; what it said on stderr."""
    monkeypatch.setattr(synchronize, "threading", SimpleNamespace(Event=OneLook))
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # pytest keeps its own Ctrl-C
    outcome = cli("scheduler", "--every", "1")
    assert outcome.code == 0
    assert outcome.out == ""
    return outcome.err


def test_the_scheduler_says_each_clients_pass_with_its_local_time(
    nightly_acme: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = run_scheduler_once(nightly_acme, monkeypatch).splitlines()

    assert said[0].startswith("Scheduler running")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T  Client ACME: 3 entries sent to the relay;.*", said[1]
    )
    assert said[2] == "Scheduler stopped."


def test_the_scheduler_under_json_prints_its_passes_as_one_object_once_stopped(
    nightly_acme: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synchronize, "threading", SimpleNamespace(Event=OneLook))
    monkeypatch.setattr(signal, "signal", lambda *_: None)

    outcome = nightly_acme("scheduler", "--every", "1", "--json")

    assert outcome.code == 0
    [run] = outcome.json["runs"]
    assert run["folder"] == "ACME" and run["sent"] == 3 and run["refused"] is None
    assert outcome.err.splitlines()[-1] == "Scheduler stopped."


def test_the_scheduler_says_a_refused_pass_and_why(
    nightly_acme: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    nightly_acme("client", "set", "ACME", "--api", "off", "--timezone", "America/Martinique")

    said = run_scheduler_once(nightly_acme, monkeypatch).splitlines()

    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d AST  Client ACME: not sent: .*API.*", said[1])


def test_the_nightly_verb_says_the_same_summary(nightly_acme: Cli) -> None:
    outcome = nightly_acme("nightly")

    assert outcome.code == 0
    assert outcome.err.startswith("Client ACME: 3 entries sent to the relay;")


@pytest.mark.parametrize("every", ["0", "-1", "nan", "0.5", "86400"])
def test_a_look_at_the_clock_more_often_than_each_second_or_rarer_than_hourly_is_refused(
    cli: Cli, every: str
) -> None:
    outcome = cli("scheduler", "--every", every)

    assert outcome.code == 2
    assert "--every" in outcome.err
    assert outcome.out == ""
