"""Times the injection of one large batch (`ledger open`), in one process and forked.

Usage: python benchmarks/large_injection.py [--entries N ...] [--repeat R] [--seed S]
                                            [--forked-from N]

For each N (default 100,000, then 20,000 and 5,000): a fresh SQLite home, one client whose N
entries (3 lines each, as in sync_roundtrip.py) are imported, verified and deposited in the
relay, untimed. Then the folder's accounting is opened, timed: the batch read from the relay,
checked, numbered and posted by the ledger, and its answers stored in the relay. Once with
everything in this process, once as `ledger open` does it on a machine of several cores
(`forked=True`: from FORKED_FROM_ITEMS entries on, a process forked once and kept for every
batch reads and checks the entries this one hands it, while this one stores them). Each
figure is the quickest of `--repeat` runs, each on a fresh home (the kept process is forked
by the first forked run); the ratio is one process's time over the forked one's. Every run
checks that each entry was posted once. `--forked-from N` moves the threshold, to see what
the other process gives below it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from ledgerbridge.db import Database
from ledgerbridge.platform import Platform
from ledgerbridge.processes import may_fork
from ledgerbridge.relay import opening as relay_opening
from ledgerbridge.workspace.service import Workspace
from sync_roundtrip import import_file, prepare_folder, purchases, write_batch

FOLDER = "BIG"


def injection_seconds(workdir: Path, entries: int, seed: int, *, forked: bool) -> float:
    """One client's batch of `entries` deposited, then the timed opening of its accounting."""
    home = workdir / f"home-{entries}-{'forked' if forked else 'alone'}"
    shutil.rmtree(home, ignore_errors=True)
    platform = Platform.on(Database.open(home=home))
    workspace = Workspace(platform.database, platform.connector, platform.clock)
    platform.relay.authenticate_administrator()
    prepare_folder(platform, workspace, FOLDER)
    path = workdir / f"batch-{entries}.json"
    if not path.exists():
        write_batch(path, FOLDER, purchases(entries, 0.0, random.Random(seed)))
    import_file(workspace, FOLDER, path)
    workspace.verify_all(FOLDER)
    platform.synchronizer.sync(FOLDER)
    start = time.perf_counter()
    report = platform.relay.open_folder(FOLDER, platform.ledger, forked=forked)
    seconds = time.perf_counter() - start
    if (report.posted, report.replayed, report.rejected) != (entries, 0, 0):
        raise SystemExit(f"injection went wrong: {report}")
    platform.database.dispose()
    shutil.rmtree(home)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--entries",
        type=int,
        nargs="+",
        default=[100_000, 20_000, 5_000],
        help="batch sizes (default 100,000 20,000 5,000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the quickest counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--forked-from",
        type=int,
        default=relay_opening.FORKED_FROM_ITEMS,
        metavar="N",
        help=f"entries from which a batch is injected forked (default {relay_opening.FORKED_FROM_ITEMS:,})",
    )
    options = parser.parse_args()
    relay_opening.FORKED_FROM_ITEMS = options.forked_from
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not may_fork():
        raise SystemExit("this machine cannot fork or has one core: nothing to compare")

    workdir = Path(tempfile.mkdtemp(prefix="ledgerbridge-injection-bench-"))
    print(
        f"injection of one batch (`ledger open`), SQLite, quickest of {options.repeat};"
        f" forked from {options.forked_from:,} entries"
    )
    print(f"{'entries':>9}{'one process s':>15}{'forked s':>10}{'entries/s':>12}{'ratio':>7}")
    for entries in options.entries:
        alone = forked = float("inf")
        for _ in range(options.repeat):  # alternated, so that a change of pace hits both
            alone = min(alone, injection_seconds(workdir, entries, options.seed, forked=False))
            forked = min(forked, injection_seconds(workdir, entries, options.seed, forked=True))
        print(
            f"{entries:>9,}{alone:>15.2f}{forked:>10.2f}{entries / forked:>12,.0f}"
            f"{alone / forked:>7.2f}"
        )
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
