"""Times the sync round trip (import, verify, sync, injection, results) of many clients in-process.

Usage: python benchmarks/sync_roundtrip.py [--clients C] [--entries E] [--rejected SHARE]
                                           [--big N] [--workers P] [--database-url URL]
                                           [--statements N] [--repeat R] [--seed S]
                                           [--keep DIR]

On a fresh SQLite home (or an empty database at `--database-url`, PostgreSQL), one Platform and
one Workspace share one database, as the `ledgerbridge` command composes them. Untimed
preparation: a ledger folder per client (its setup applied), the
client connected, its marketplace connector activated, the reference administrator
authenticated, and each client's entries batch written as a JSON file (E entries of 3 lines: a
purchase, its deductible VAT, the supplier's collective account with its auxiliary account).
`--rejected` makes a share of them leave out the auxiliary account (`collective_account`).

Timed stages, for every client in turn, through the services the verbs call:
  import     the batch file streamed and imported into To Verify (`entries import`)
  verify     every entry marked verified (`entries verify --all`)
  sync       one batch per client deposited in the relay (`sync`)
  injection  the folder's accounting opened: the batch checked and posted (`ledger open`)
  results    the ledger's answers applied in the workspace (what `ledger open` does on return)
Each stage prints entries per second, its time in the database, and its time inside writing
transactions (on SQLite, the one write lock held), then the whole round trip; the goal is
20,000 entries per second end to end. `--workers P` shares the clients out between P forked processes, each doing
its clients' stages in turn on the same database, and prints only the end to end figure (the
time from the first process started to the last one done). `--statements N` then lists the N
statements (and COMMIT) that took the most time in the database, with their calls and rows.
The round trip runs `--repeat` times (default 3), each on a fresh home prepared anew; each
run's end to end time is printed, and the quickest run's figures are the ones shown and
judged, as in ledger_post.py: a shared machine's other load only ever slows a run down. On
PostgreSQL (`--database-url`) or in a kept directory (`--keep`), it runs once.

A second measurement, in the same run: one client of N entries (`--big`, default 100,000) with
a mirror of the ledger's setup in place (published by the ledger, taken by the workspace), so
the import makes each entry's pre-flight verdict, and the To Verify tab shows them; the goal is
import + pre-flight (import, then the tab read) under 10 seconds.
Every figure is checked against what the run should give (entries posted, rejected, predicted),
and the run stops on a difference.

Peak memory is the largest process's max RSS (resource.getrusage: this one's, or a worker's),
which never goes down: the figure printed after each measurement is the highest so far.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, event

from ledgerbridge.db import Database
from ledgerbridge.documents import stream_entries
from ledgerbridge.domain.entries import BatchReader
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.setup import FolderSetup, parse_setup
from ledgerbridge.platform import Platform
from ledgerbridge.processes import may_fork
from ledgerbridge.workspace.service import Workspace

TO_VERIFY_TAB = (Status.TO_VERIFY, Status.VERIFIED, Status.SYNC_FAILED)
ROUND_TRIP_GOAL = 20_000  # entries per second, end to end
BIG_GOAL_SECONDS = 10.0
SUPPLIERS = 200

T = TypeVar("T")


def folder_setup(folder: str) -> FolderSetup:
    """A purchase-ledger folder: two open fiscal years, suppliers on a collective account."""
    return parse_setup(
        {
            "folder": folder,
            "name": f"{folder} SAS",
            "fiscal_years": [
                {"code": "2025", "start": "2025-01-01", "end": "2025-12-31", "status": "open"},
                {"code": "2026", "start": "2026-01-01", "end": "2026-12-31", "status": "open"},
            ],
            "journals": [{"code": "ACH", "kind": "purchase", "name": "Achats"}],
            "accounts": [
                {"number": "401000", "name": "Fournisseurs", "collective": True},
                {"number": "445660", "name": "TVA déductible"},
                {"number": "606100", "name": "Fournitures"},
            ],
            "third_parties": [
                {"code": f"F{n:04d}", "name": f"Fournisseur {n}", "account": "401000"}
                for n in range(SUPPLIERS)
            ],
        }
    )


def cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def purchases(count: int, rejected_share: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Purchase invoices of 3 lines; the rejected ones lack the supplier's auxiliary account."""
    for number in range(count):
        net = rng.randint(100, 500_000)
        vat = net // 5
        supplier: dict[str, Any] = {
            "account": "401000",
            "label": "Fournisseur",
            "credit": cents(net + vat),
        }
        if rng.random() >= rejected_share:
            supplier["auxiliary"] = f"F{rng.randrange(SUPPLIERS):04d}"
        yield {
            "id": f"inv-{number:07d}",
            "journal": "ACH",
            "date": f"{rng.choice((2025, 2026))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "reference": f"F{number:07d}",
            "label": f"Facture {number}",
            "lines": [
                {"account": "606100", "label": "Fournitures", "debit": cents(net)},
                {"account": "445660", "label": "TVA", "debit": cents(vat)},
                supplier,
            ],
        }


def write_batch(path: Path, folder: str, entries: Iterator[dict[str, Any]]) -> int:
    """Writes an entries batch file as a stream; returns how many entries lack an auxiliary."""
    rejected = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(f'{{"folder": "{folder}", "entries": [\n')
        for index, entry in enumerate(entries):
            rejected += "auxiliary" not in entry["lines"][2]
            out.write(("" if index == 0 else ",\n") + json.dumps(entry, ensure_ascii=False))
        out.write("\n]}\n")
    return rejected


def peak_mb() -> float:
    """The largest process's peak so far: this one, or a worker it forked (--workers)."""
    largest = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return largest / 1024  # KiB on Linux


class DatabaseTime:
    """Seconds spent running statements and commits in the database, from the engine's events.

    Rows fetched after a statement ran are not counted: a lower bound of the database's share.
    On PostgreSQL, inserts go by COPY on the driver's own cursor, which the engine does not
    see: there the figure leaves them out too.

    Also the seconds spent in writing transactions, from their start to their commit: on
    SQLite, the time the database's one write lock is held (`write lock`), which another
    process sharing the database would wait for.
    """

    def __init__(self, database: Database) -> None:
        engine = database.engine
        self.seconds = 0.0
        self.write_seconds = 0.0
        self._started = 0.0
        transaction = database.transaction

        @contextmanager
        def timed_transaction(*, write: bool = True) -> Iterator[Connection]:
            start = time.perf_counter()
            try:
                with transaction(write=write) as connection:
                    yield connection
            finally:
                if write:
                    self.write_seconds += time.perf_counter() - start

        # The one Database every part of the platform uses, its method replaced on it alone.
        setattr(database, "transaction", timed_transaction)  # noqa: B010
        # Per statement (its first words): calls, rows given, seconds; commits as COMMIT.
        self.statements: dict[str, list[float]] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        commit = engine.dialect.do_commit

        def timed_commit(dbapi_connection: Any) -> None:
            start = time.perf_counter()
            try:
                commit(dbapi_connection)
            finally:
                self._count("COMMIT", 0, time.perf_counter() - start)

        setattr(engine.dialect, "do_commit", timed_commit)  # noqa: B010 - a method replaced

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(
        self, _c: Any, _k: Any, statement: str, parameters: Any, _x: Any, executemany: bool
    ) -> None:
        rows = len(parameters) if executemany else 1
        self._count(" ".join(statement.split())[:72], rows, time.perf_counter() - self._started)

    def _count(self, statement: str, rows: int, seconds: float) -> None:
        self.seconds += seconds
        tally = self.statements.setdefault(statement, [0, 0, 0.0])
        tally[0] += 1
        tally[1] += rows
        tally[2] += seconds

    def print_statements(self, count: int) -> None:
        """The `count` statements that took the most time in all, with their calls and rows."""
        print(f"{'seconds':>8}{'calls':>8}{'rows':>10}  statement (its first words)")
        ranked = sorted(self.statements.items(), key=lambda item: -item[1][2])
        for statement, (calls, rows, seconds) in ranked[:count]:
            print(f"{seconds:>8.3f}{calls:>8.0f}{rows:>10,.0f}  {statement}")


@dataclass
class Stage:
    name: str
    database: DatabaseTime
    seconds: float = 0.0
    database_seconds: float = 0.0
    write_seconds: float = 0.0

    def run(self, action: Callable[[], T]) -> T:
        start = time.perf_counter()
        database_start, write_start = self.database.seconds, self.database.write_seconds
        outcome = action()
        self.seconds += time.perf_counter() - start
        self.database_seconds += self.database.seconds - database_start
        self.write_seconds += self.database.write_seconds - write_start
        return outcome


def import_file(workspace: Workspace, folder: str, path: Path) -> int:
    """What `entries import FOLDER FILE` does: stream the file, refuse it whole if malformed."""
    reader = BatchReader(expected_folder=folder)
    report = workspace.import_entries(
        folder,
        stream_entries(path, reader),
        before_commit=lambda: reader.finish(source=str(path)),
    )
    return len(report.results)


def prepare_folder(platform: Platform, workspace: Workspace, folder: str) -> FolderSetup:
    setup = folder_setup(folder)
    platform.ledger.apply_setup(setup)
    platform.relay.activate_connector(folder, accept=True)
    workspace.connect_client(folder)
    return setup


def expect(what: str, got: int, wanted: int) -> None:
    if got != wanted:
        raise SystemExit(f"round trip went wrong: {what} is {got:,}, expected {wanted:,}")


def round_trip(
    platform: Platform,
    workspace: Workspace,
    batches: Sequence[tuple[str, Path, int]],
    entries: int,
    database: DatabaseTime,
) -> list[Stage]:
    stages = [
        Stage(name, database) for name in ("import", "verify", "sync", "injection", "results")
    ]
    imported_stage, verify_stage, sync_stage, inject_stage, results_stage = stages
    expected_rejected = sum(rejected for _, _, rejected in batches)
    total = entries * len(batches)
    imported = verified = sent = posted = rejected = synchronized = failed = 0
    for folder, path, _ in batches:
        imported += imported_stage.run(partial(import_file, workspace, folder, path))
    for folder, _, _ in batches:
        verified += len(verify_stage.run(partial(workspace.verify_all, folder)))
    for folder, _, _ in batches:
        sent += sync_stage.run(partial(platform.synchronizer.sync, folder)).sent
    for folder, _, _ in batches:
        # As `ledger open` calls it: a batch this size is injected in one process all the same.
        opening = inject_stage.run(
            partial(platform.relay.open_folder, folder, platform.ledger, forked=may_fork())
        )
        posted += opening.posted
        rejected += opening.rejected
    for folder, _, _ in batches:
        results = results_stage.run(partial(platform.synchronizer.receive_results, folder))
        synchronized += results.synchronized
        failed += results.failed
    expect("entries imported", imported, total)
    expect("entries verified", verified, total)
    expect("entries sent", sent, total)
    expect("entries posted", posted, total - expected_rejected)
    expect("entries rejected", rejected, expected_rejected)
    expect("entries synchronized", synchronized, total - expected_rejected)
    expect("entries failed", failed, expected_rejected)
    return stages


@dataclass(frozen=True)
class BigClient:
    entries: int
    import_s: float  # each entry's pre-flight verdict is made against the mirror as it comes in
    to_verify_s: float  # the To Verify tab, which shows the verdicts kept at import
    predicted: int


def big_client(
    platform: Platform,
    workspace: Workspace,
    workdir: Path,
    count: int,
    rejected_share: float,
    seed: int,
) -> BigClient:
    """Import + pre-flight of one client of `count` entries, with a mirror in place."""
    folder = "BIG"
    setup = prepare_folder(platform, workspace, folder)
    platform.relay.publish_setup(folder, setup)  # `ledger resync-fiscal-years BIG`
    if workspace.refresh_mirror(folder) is None:
        raise SystemExit("the workspace took no mirror of the published setup")
    path = workdir / "big.json"
    rejected = write_batch(path, folder, purchases(count, rejected_share, random.Random(seed)))
    start = time.perf_counter()
    imported = import_file(workspace, folder, path)
    import_s = time.perf_counter() - start
    start = time.perf_counter()
    to_verify = workspace.list_entries(folder, TO_VERIFY_TAB)
    to_verify_s = time.perf_counter() - start
    expect("big client's entries imported", imported, count)
    expect("big client's To Verify rows", len(to_verify), count)
    expect(
        "big client's predicted rejections in To Verify",
        sum(1 for row in to_verify if row.predicted is not None),
        rejected,
    )
    return BigClient(count, import_s, to_verify_s, rejected)


def print_big_client(big: BigClient) -> None:
    both = big.import_s + big.to_verify_s
    print(
        f"big client: {big.entries:,} entries with a mirror in place,"
        f" {big.predicted:,} predicted rejections"
    )
    print(f"{'stage':<31}{'seconds':>9}{'entries/s':>12}")
    for name, seconds in (
        ("import, pre-flight verdicts made", big.import_s),
        ("To Verify tab, verdicts shown", big.to_verify_s),
        ("import + pre-flight", both),
    ):
        print(f"{name:<31}{seconds:>9.2f}{big.entries / seconds:>12,.0f}")
    print(f"peak memory so far: {peak_mb():.0f} MB")
    print(
        f"goal: import + pre-flight < {BIG_GOAL_SECONDS:.0f} s:"
        f" {'met' if both < BIG_GOAL_SECONDS else 'NOT met'}"
    )


def print_round_trip(stages: list[Stage], total: int) -> float:
    """Each stage's figures and the whole round trip's; its rate in entries per second."""
    end_to_end = sum(stage.seconds for stage in stages)
    in_database = sum(stage.database_seconds for stage in stages)
    writing = sum(stage.write_seconds for stage in stages)
    rate = total / end_to_end
    print(
        f"{'stage':<12}{'seconds':>9}{'entries/s':>12}{'share':>8}{'in database':>13}{'writing':>9}"
    )
    for stage in stages:
        print(
            f"{stage.name:<12}{stage.seconds:>9.2f}{total / stage.seconds:>12,.0f}"
            f"{stage.seconds / end_to_end:>8.0%}{stage.database_seconds:>13.2f}"
            f"{stage.write_seconds:>9.2f}"
        )
    print(
        f"{'end to end':<12}{end_to_end:>9.2f}{rate:>12,.0f}{1:>8.0%}{in_database:>13.2f}"
        f"{writing:>9.2f}"
    )
    print(
        f"in database: statements run and commits (not rows fetched),"
        f" {in_database / end_to_end:.0%}"
        f" of the time; the goal leaves {total / ROUND_TRIP_GOAL:.2f} s for everything"
    )
    print(
        "writing: inside writing transactions, from their start to their commit (on SQLite,"
        f" its one write lock held), {writing / end_to_end:.0%} of the time"
    )
    return rate


def round_trip_in_processes(
    opening: Callable[[], Database],
    batches: Sequence[tuple[str, Path, int]],
    entries: int,
    workers: int,
) -> float:
    """The round trip of every client, the clients shared out between `workers` forked
    processes, each with its own connections to the one database: their rate together."""
    start = time.perf_counter()
    pids = []
    for worker in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                platform = Platform.on(opening())
                workspace = Workspace(platform.database, platform.connector, platform.clock)
                database = DatabaseTime(platform.database)
                round_trip(platform, workspace, batches[worker::workers], entries, database)
                platform.database.dispose()
                code = 0
            except BaseException as error:  # the parent reports that this process failed
                print(f"worker {worker}: {error}", flush=True)
            finally:
                os._exit(code)
        pids.append(pid)
    failed = [pid for pid in pids if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])]
    seconds = time.perf_counter() - start
    if failed:
        raise SystemExit(f"{len(failed)} of the {workers} processes failed")
    total = entries * len(batches)
    rate = total / seconds
    print(f"end to end, the clients shared out between {workers} processes:")
    print(f"{'seconds':>9}{'entries/s':>12}")
    print(f"{seconds:>9.2f}{rate:>12,.0f}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100, help="clients (default 100)")
    parser.add_argument(
        "--entries", type=int, default=1_000, help="entries per client (default 1,000)"
    )
    parser.add_argument(
        "--rejected",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of entries the ledger rejects, 0 to 1 (default 0: all accepted)",
    )
    parser.add_argument(
        "--big",
        type=int,
        default=100_000,
        metavar="N",
        help="entries of the one big client (default 100,000; 0 skips it)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="P",
        help="processes sharing out the clients, each client's stages in turn (default 1)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="an empty database to use instead of a fresh SQLite home (PostgreSQL)",
    )
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        metavar="N",
        help="after the round trip, the N statements that took the most time (default 0: none)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="R",
        help="round trips, each on a fresh home, the quickest judged (default 3; 1 with"
        " --database-url or --keep)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    options = parser.parse_args()
    if not 0.0 <= options.rejected <= 1.0:
        parser.error("--rejected is a share between 0 and 1")
    if options.workers < 1:
        parser.error("--workers must be at least 1")

    repeat = options.repeat
    if repeat is None:
        repeat = 1 if options.database_url or options.keep else 3
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    if repeat > 1 and (options.database_url or options.keep):
        parser.error(
            "--repeat above 1 needs a fresh SQLite home each time: not with"
            " --database-url or --keep"
        )
    total = options.clients * options.entries
    runs: list[tuple[float, list[Stage], DatabaseTime | None]] = []
    for run in range(1, repeat + 1):
        workdir = options.keep or Path(tempfile.mkdtemp(prefix="ledgerbridge-sync-bench-"))
        platform, workspace, database, batches, opening = prepared(options, workdir)
        if run == 1:
            rejected_total = sum(rejected for _, _, rejected in batches)
            print(
                f"round trip: {options.clients:,} clients x {options.entries:,} entries ="
                f" {total:,} entries ({total * 3:,} lines), {rejected_total:,} to be rejected;"
                f" {platform.database.url.render_as_string(hide_password=True)}"
                + (f"; quickest of {repeat} runs, each on a fresh home" if repeat > 1 else "")
            )
        if options.workers > 1:
            platform.database.dispose()
            rate = round_trip_in_processes(opening, batches, options.entries, options.workers)
            runs.append((rate, [], None))
        else:
            database.statements.clear()  # the preparation's own statements left out
            stages = round_trip(platform, workspace, batches, options.entries, database)
            rate = total / sum(stage.seconds for stage in stages)
            runs.append((rate, stages, database))
            if repeat > 1:
                print(f"run {run}: {total / rate:.2f} s end to end, {rate:,.0f} entries/s")
        if run < repeat:
            platform.database.dispose()
            shutil.rmtree(workdir)
    best = max(range(repeat), key=lambda run: runs[run][0])
    rate, stages, quickest = runs[best]
    if stages:
        if repeat > 1:
            print(f"the quickest run (run {best + 1}):")
        print_round_trip(stages, total)
        if options.statements and quickest is not None:
            quickest.print_statements(options.statements)
    print(f"peak memory so far: {peak_mb():.0f} MB")
    print(
        f"goal: >= {ROUND_TRIP_GOAL:,} entries/s end to end:"
        f" {'met' if rate >= ROUND_TRIP_GOAL else 'NOT met'} ({rate / ROUND_TRIP_GOAL:.2f} x goal)"
    )

    if options.big > 0:
        print_big_client(
            big_client(platform, workspace, workdir, options.big, options.rejected, options.seed)
        )
    platform.database.dispose()
    if options.keep is None:
        shutil.rmtree(workdir)


def prepared(
    options: argparse.Namespace, workdir: Path
) -> tuple[
    Platform,
    Workspace,
    DatabaseTime,
    list[tuple[str, Path, int]],
    Callable[[], Database],
]:
    """The untimed preparation in `workdir`: every client's folder, connection, connector,
    and batch file; the administrator authenticated."""
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "home"
    if options.database_url is None and any(home.glob("*.sqlite*")):
        raise SystemExit(f"{home} already holds a ledgerbridge home: give an empty --keep DIR")
    opening = partial(Database.open, home=home, url=options.database_url)
    platform = Platform.on(opening())
    if platform.ledger.folders():
        raise SystemExit(f"{platform.database.url} already holds folders: give an empty database")
    database = DatabaseTime(platform.database)
    workspace = Workspace(platform.database, platform.connector, platform.clock)
    rng = random.Random(options.seed)
    platform.relay.authenticate_administrator()
    batches: list[tuple[str, Path, int]] = []
    for number in range(options.clients):
        folder = f"C{number:04d}"
        prepare_folder(platform, workspace, folder)
        path = workdir / f"{folder}.json"
        rejected = write_batch(path, folder, purchases(options.entries, options.rejected, rng))
        batches.append((folder, path, rejected))
    return platform, workspace, database, batches, opening


if __name__ == "__main__":
    main()
