"""`ledgerbridge sync / nightly / scheduler`: sending verified entries to the ledger."""

from __future__ import annotations

import math
import signal
import threading
from typing import Annotated

import typer

from ledgerbridge.cli.output import emit, is_json, say, working
from ledgerbridge.cli.platform_access import open_platform

FolderArgument = Annotated[str, typer.Argument(metavar="FOLDER", help="The client's folder code.")]


def sync(folder: FolderArgument) -> None:
    """The Synchronize button: deposit every verified entry of the client as one batch."""
    platform = open_platform()
    with working(f"Synchronizing {folder}: verified entries to the relay..."):
        report = platform.synchronizer.sync(folder)
    if is_json():
        emit({"sync": report.as_dict()})
    say(report.summary())


def nightly() -> None:
    """One nightly run now, for every client set to nightly, whatever the time."""
    outcomes = open_platform().nightly.run_now()
    if is_json():
        emit({"runs": [outcome.as_dict() for outcome in outcomes]})
    if not outcomes:
        say("No client is set to nightly sending.")
    for outcome in outcomes:
        say(outcome.summary())


def _a_number(seconds: float) -> float:
    if math.isnan(seconds):  # a range lets NaN through: no comparison with it holds
        raise typer.BadParameter("not a number of seconds")
    return seconds


def scheduler(
    every: Annotated[
        float,
        typer.Option(
            "--every",
            min=1.0,
            max=3600.0,
            callback=_a_number,
            help="Seconds between two looks at the clock, from 1 to 3600.",
        ),
    ] = 30.0,
) -> None:
    """Stay up and run each nightly client's sync at its local time (Ctrl-C to stop)."""
    from ledgerbridge.workspace.nightly import NightlyOutcome, serve_scheduler

    platform = open_platform()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    say("Scheduler running: each nightly client is sent at its local time. Ctrl-C stops it.")
    passes: list[NightlyOutcome] = []

    def on_pass(run: NightlyOutcome) -> None:
        # Each pass on the terminal too, as `nightly` says it, after the client's local time.
        say(run.line())
        if is_json():
            passes.append(run)

    serve_scheduler(platform.nightly, stop, every_seconds=every, on_pass=on_pass)
    if is_json():  # the one object of --json: every pass it ran, said once it stops
        emit({"runs": [run.as_dict() for run in passes]})
    say("Scheduler stopped.")
