"""Times `ledger check` and `ledger post` through the CLI against raw SQLite inserts of the same lines.

Usage: python benchmarks/ledger_post.py [--entries N] [--repeat R] [--seed S] [--keep DIR]

It generates a folder setup and N entries of 2 to 4 lines (default 100,000), runs, as a user
would, `ledgerbridge ledger check` and then `ledger apply` + `ledger post` on a fresh SQLite
home, and in the same run the physical limit: the same line rows inserted with
`sqlite3.executemany` in one transaction, with no check; and what storing alone costs: every
entry's row inserted the same way into the ledger's own table (an entry with its lines as
JSON, with the table's indexes, foreign keys and pragmas). It prints lines per second for
each, the ratios against the raw limit, and each command's peak memory.

Each is timed `--repeat` times (3 by default), on fresh homes, and the quickest run of each
counts: a shared machine's other load only ever slows a run down. Memory is the largest
process's (max RSS), and, on Linux, all its processes together (the command's and those it
forks), by proportional set size sampled from /proc in a second, untimed run of each
command, so that the sampling never slows the timed one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ledgerbridge.db import wal_autocheckpoint
from ledgerbridge.domain.entries import decode_entry, lines_json

SETUP = {
    "folder": "BENCH",
    "name": "Bench SAS",
    "siren": "552100554",
    "fiscal_years": [
        {"code": "2025", "start": "2025-01-01", "end": "2025-12-31", "status": "open"},
        {"code": "2026", "start": "2026-01-01", "end": "2026-12-31", "status": "open"},
    ],
    "journals": [
        {"code": "ACH", "kind": "purchase", "name": "Achats"},
        {"code": "VTE", "kind": "sales", "name": "Ventes"},
    ],
    "accounts": [
        {"number": "401000", "name": "Fournisseurs", "collective": True},
        {"number": "411000", "name": "Clients", "collective": True},
        {"number": "445660", "name": "TVA déductible"},
        {"number": "445710", "name": "TVA collectée"},
        {"number": "606100", "name": "Fournitures", "analytics": True},
        {"number": "706000", "name": "Prestations"},
    ],
    "third_parties": [
        {"code": f"F{n:04d}", "name": f"Fournisseur {n}", "account": "401000"} for n in range(200)
    ]
    + [{"code": f"C{n:04d}", "name": f"Client {n}", "account": "411000"} for n in range(200)],
    "analytics": {"axes": [{"code": "SITE", "name": "Site", "sections": ["PARIS", "LYON"]}]},
}


def cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def generate_entries(count: int, seed: int) -> Iterator[dict[str, object]]:
    """Purchases and sales of 2 to 4 lines, balanced; about one in twenty is rejected."""
    rng = random.Random(seed)
    for number in range(count):
        day = f"{rng.choice((2025, 2026))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        net = rng.randint(100, 500_000)
        size = rng.randint(2, 4)
        if rng.random() < 0.5:
            party = f"F{rng.randrange(200):04d}"
            lines: list[dict[str, object]] = []
            if size == 4:
                half = net // 2
                lines.append(
                    {
                        "account": "606100",
                        "label": "Achat",
                        "debit": cents(half),
                        "analytics": [{"axis": "SITE", "section": "PARIS", "amount": cents(half)}],
                    }
                )
                lines.append(
                    {
                        "account": "606100",
                        "label": "Achat",
                        "debit": cents(net - half),
                        "analytics": [
                            {"axis": "SITE", "section": "LYON", "amount": cents(net - half)}
                        ],
                    }
                )
            else:
                lines.append(
                    {
                        "account": "606100",
                        "label": "Achat",
                        "debit": cents(net),
                        "analytics": [{"axis": "SITE", "section": "PARIS", "amount": cents(net)}],
                    }
                )
            vat = net // 5 if size >= 3 else 0
            if vat:
                lines.append({"account": "445660", "label": "TVA", "debit": cents(vat)})
            aux = (
                party if rng.random() > 0.05 else None
            )  # the odd collective line without auxiliary
            credit: dict[str, object] = {
                "account": "401000",
                "label": "Fournisseur",
                "credit": cents(net + vat),
            }
            if aux:
                credit["auxiliary"] = aux
            lines.append(credit)
            journal = "ACH"
        else:
            party = f"C{rng.randrange(200):04d}"
            vat = net // 5 if size >= 3 else 0
            lines = [
                {
                    "account": "411000",
                    "auxiliary": party,
                    "label": "Client",
                    "debit": cents(net + vat),
                }
            ]
            if size == 4:
                half = net // 2
                lines.append({"account": "706000", "label": "Vente", "credit": cents(half)})
                lines.append({"account": "706000", "label": "Vente", "credit": cents(net - half)})
            else:
                lines.append({"account": "706000", "label": "Vente", "credit": cents(net)})
            if vat:
                lines.append({"account": "445710", "label": "TVA", "credit": cents(vat)})
            journal = "VTE"
        yield {
            "id": f"e{number:07d}",
            "journal": journal,
            "date": day,
            "reference": f"P{number:07d}",
            "label": f"Pièce {number}",
            "lines": lines,
        }


def write_batch(path: Path, count: int, seed: int) -> int:
    """Writes the batch as a stream (never the whole document in memory); returns the line count."""
    lines = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"folder": "BENCH", "entries": [\n')
        for index, entry in enumerate(generate_entries(count, seed)):
            lines += len(entry["lines"])  # type: ignore[arg-type]
            out.write(("" if index == 0 else ",\n") + json.dumps(entry, ensure_ascii=False))
        out.write("\n]}\n")
    return lines


def run_cli(args: list[str], home: Path) -> tuple[float, float]:
    """Runs one ledgerbridge command as a user would; returns (seconds, peak RSS in MB)."""
    command = [sys.executable, "-m", "ledgerbridge", "--home", str(home), *args, "--json"]
    start = time.perf_counter()
    with Path(os.devnull).open("w") as devnull, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=devnull, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024


def _children(pid: int) -> list[int]:
    try:
        listing = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(child) for child in listing.split()]
    except OSError:
        return []


def _pss_mb(pid: int) -> float:
    """The process's proportional set size: shared pages counted once across processes."""
    try:
        with Path(f"/proc/{pid}/smaps_rollup").open() as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def summed_memory(args: list[str], home: Path) -> float | None:
    """Runs one ledgerbridge command, untimed; the most its processes held together (MB), or
    None where /proc cannot tell."""
    if not Path("/proc/self/smaps_rollup").exists():
        return None
    command = [sys.executable, "-m", "ledgerbridge", "--home", str(home), *args, "--json"]
    most = 0.0
    with Path(os.devnull).open("w") as devnull:
        process = subprocess.Popen(command, stdout=devnull, stderr=devnull)
        while process.poll() is None:
            pids = [process.pid, *_children(process.pid)]
            most = max(most, sum(_pss_mb(pid) for pid in pids))
            time.sleep(0.05)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode})")
    return most


def in_cents(amount: object) -> int:
    """An amount as the generator writes it (`"120.50"`), in integer cents."""
    return int(str(amount).replace(".", ""))


def line_row(entry: int, line_no: int, line: dict[str, object]) -> tuple[object, ...]:
    """A line as the raw limit inserts it: entry, number, account, auxiliary, label, cents."""
    return (
        entry,
        line_no,
        line["account"],
        line.get("auxiliary"),
        line.get("label"),
        in_cents(line.get("debit", "0")),
        in_cents(line.get("credit", "0")),
    )


def raw_limit(entries_path: Path, workdir: Path, count: int, seed: int) -> tuple[float, int]:
    """The same line rows inserted with sqlite3.executemany in one transaction, no check."""
    rows: list[tuple[object, ...]] = []
    for number, entry in enumerate(generate_entries(count, seed)):
        lines: list[dict[str, object]] = entry["lines"]  # type: ignore[assignment]
        rows.extend(line_row(number, line_no, line) for line_no, line in enumerate(lines, 1))
    database = workdir / "raw.sqlite"
    database.unlink(missing_ok=True)
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE line (entry INTEGER, line_no INTEGER, account TEXT, auxiliary TEXT, label TEXT,"
        " debit INTEGER, credit INTEGER, PRIMARY KEY (entry, line_no))"
    )
    start = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO line VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed, len(rows)


def ledger_tables_limit(workdir: Path, setup_path: Path, count: int, seed: int) -> float:
    """Every entry's row inserted into the ledger's own table, as `ledger post` stores it (the
    entry with its lines as `lines_json` writes them; the same indexes, foreign keys and
    pragmas), with sqlite3.executemany in one transaction: no reading, no check, no
    numbering. What storing alone costs, the part of a posting no preparing can overlap."""
    home = workdir / "tables-home"
    run_cli(["ledger", "apply", "--setup", str(setup_path)], home)
    entries: list[tuple[object, ...]] = []
    numbers: dict[str, int] = {}
    for entry_pk, entry in enumerate(generate_entries(count, seed), 1):
        year = str(entry["date"])[:4]
        numbers[year] = numbers.get(year, 0) + 1
        content = json.dumps(entry, ensure_ascii=False).encode()
        lines = decode_entry(content).lines
        entries.append(
            (
                entry_pk,
                year,
                numbers[year],
                entry["id"],
                hashlib.sha256(content).hexdigest(),
                entry["id"],
                entry["journal"],
                entry["date"],
                entry["reference"],
                entry["label"],
                "2026-01-01 00:00:00.000000",
                lines_json(lines),
            )
        )
    connection = sqlite3.connect(home / "ledgerbridge.sqlite", isolation_level=None)
    for pragma in (
        "foreign_keys = ON",
        "journal_mode = WAL",
        "synchronous = FULL",
        f"wal_autocheckpoint = {wal_autocheckpoint(connection)}",
    ):
        connection.execute(f"PRAGMA {pragma}")
    (folder_id,) = connection.execute("SELECT id FROM ledger_folders").fetchone()
    start = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO ledger_entries (id, folder_id, fiscal_year, number, key, fingerprint,"
        " entry_id, journal, date, reference, label, posted_at, lines)"
        f" VALUES (?, {folder_id}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        entries,
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--entries", type=int, default=100_000, help="entries to generate (default 100,000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of each, the quickest counts (default 3)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    options = parser.parse_args()
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")

    workdir = options.keep or Path(tempfile.mkdtemp(prefix="ledgerbridge-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    setup_path = workdir / "setup.json"
    setup_path.write_text(json.dumps(SETUP, ensure_ascii=False), encoding="utf-8")
    entries_path = workdir / "entries.json"
    lines = write_batch(entries_path, options.entries, options.seed)
    size_mb = entries_path.stat().st_size / 1e6
    print(
        f"batch: {options.entries:,} entries, {lines:,} lines, {size_mb:.1f} MB;"
        f" best of {options.repeat} run{'s' if options.repeat > 1 else ''}"
    )

    check_s = post_s = raw_s = tables_s = float("inf")
    check_mb = post_mb = 0.0
    raw_lines = 0
    for run in range(options.repeat):
        home = workdir / f"home-{run}"
        seconds, largest = run_cli(
            ["ledger", "check", "--setup", str(setup_path), str(entries_path)], home
        )
        check_s, check_mb = min(check_s, seconds), max(check_mb, largest)
        run_cli(["ledger", "apply", "--setup", str(setup_path)], home)
        seconds, largest = run_cli(["ledger", "post", "BENCH", str(entries_path)], home)
        post_s, post_mb = min(post_s, seconds), max(post_mb, largest)
    # Memory of all the processes together, in untimed runs on a home of their own.
    memory_home = workdir / "memory-home"
    check_all_mb = summed_memory(
        ["ledger", "check", "--setup", str(setup_path), str(entries_path)], memory_home
    )
    run_cli(["ledger", "apply", "--setup", str(setup_path)], memory_home)
    post_all_mb = summed_memory(["ledger", "post", "BENCH", str(entries_path)], memory_home)
    # The limits last: they hold every row in this process, and a command started after
    # them would report this process's peak as its own (max RSS is inherited across exec).
    for run in range(options.repeat):
        seconds, raw_lines = raw_limit(entries_path, workdir, options.entries, options.seed)
        raw_s = min(raw_s, seconds)
        tables_home = workdir / f"tables-{run}"
        seconds = ledger_tables_limit(tables_home, setup_path, options.entries, options.seed)
        tables_s = min(tables_s, seconds)

    raw_rate = raw_lines / raw_s
    check_rate = lines / check_s
    post_rate = lines / post_s
    print(f"{'run':<34}{'seconds':>9}{'lines/s':>12}{'vs raw':>9}{'peak MB':>9}{'all MB':>8}")
    print(f"{'raw sqlite3.executemany, no check':<34}{raw_s:>9.2f}{raw_rate:>12,.0f}{1:>9.2f}")
    tables_rate = lines / tables_s
    print(
        f"{'ledger tables, executemany':<34}{tables_s:>9.2f}{tables_rate:>12,.0f}"
        f"{tables_rate / raw_rate:>9.2f}"
    )
    for name, seconds, rate, largest, together in (
        ("ledger check (CLI)", check_s, check_rate, check_mb, check_all_mb),
        ("ledger post: check + post (CLI)", post_s, post_rate, post_mb, post_all_mb),
    ):
        summed = "" if together is None else f"{together:.0f}"
        print(
            f"{name:<34}{seconds:>9.2f}{rate:>12,.0f}{rate / raw_rate:>9.2f}{largest:>9.0f}"
            f"{summed:>8}"
        )
    most = max(check_mb, post_mb, check_all_mb or 0.0, post_all_mb or 0.0)
    print(
        "goals: post >= 1/3 of raw: {}; check >= raw: {}; peak memory < 500 MB: {}".format(
            "met" if post_rate * 3 >= raw_rate else "NOT met",
            "met" if check_rate >= raw_rate else "NOT met",
            "met" if most < 500 else "NOT met",
        )
    )
    print("peak MB: the largest process (max RSS); all MB: its processes together (PSS)")
    print(
        "ledger tables: every entry's row into the ledger's own table, no check: what storing"
        "\nalone costs, which a posting pays on top of starting the command"
    )


if __name__ == "__main__":
    main()
