"""`ledgerbridge ledger ...`: the production ledger's verbs (check, apply, post, entries, export-fec)."""

from __future__ import annotations

import itertools
import mmap
import os
import struct
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledgerbridge.cli.files import check_file, checked_file, file_size, named_input
from ledgerbridge.cli.output import emit, file_progress, is_json, json_list, not_interrupted, say
from ledgerbridge.cli.parallel_check import BatchChunks, check_batch
from ledgerbridge.cli.results import ResultSpool
from ledgerbridge.cli.settings import SETTINGS
from ledgerbridge.documents import local_file, read_setup, stream_entries
from ledgerbridge.domain.clock import local_time
from ledgerbridge.domain.entries import BatchReader
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.refusals import NotFound, Refusal
from ledgerbridge.processes import may_fork

if TYPE_CHECKING:
    from ledgerbridge.ledger.service import Ledger
    from ledgerbridge.platform import Platform

app = typer.Typer(
    help="The production ledger: check, set up, post, list and export.", no_args_is_help=True
)

SetupOption = Annotated[
    Path,
    typer.Option("--setup", callback=checked_file, help="Folder setup (JSON or YAML)."),
]
EntriesArgument = Annotated[
    str,
    typer.Argument(metavar="ENTRIES", help="Entries batch (JSON or YAML; - for standard input)."),
]
FolderArgument = Annotated[str, typer.Argument(metavar="FOLDER", help="The ledger folder's code.")]


def open_ledger() -> Ledger:
    from ledgerbridge.db import Database
    from ledgerbridge.ledger.service import Ledger

    # The ledger writes no log: its every answer is the command's output (an unexpected
    # error is still logged, by the command line).
    return Ledger(Database.open(home=SETTINGS.home))


@app.command("check")
def check(entries: EntriesArgument, setup: SetupOption) -> None:
    """Run the sage-ge check on a batch against a setup; stores nothing."""
    check_file(entries, "ENTRIES", stdin=True)
    folder_setup = read_setup(setup)
    index = FolderIndex.of(folder_setup)
    reader = BatchReader(expected_folder=folder_setup.folder, folder_required=True)
    with named_input(entries), local_file(entries) as path, ResultSpool(is_json()) as spool:
        check_batch(path, reader, index, spool)
        reader.finish(source=entries)
        spool.publish()
        checked = counted(spool.accepted + spool.rejected, "entry", "entries")
        say(f"Checked {checked}: {spool.summary()}.")


@app.command("apply")
def apply(setup: SetupOption) -> None:
    """Create or update a ledger folder from a setup document."""
    from ledgerbridge.cli.platform_access import open_platform

    folder_setup = read_setup(setup)
    platform = open_platform()  # the ledger, and the workspace whose pre-flight mirrors it
    report = platform.ledger.apply_setup(folder_setup)
    if is_json():
        emit({"folder": report.as_dict()})
    say(report.summary())
    if not report.created:
        stale = _stale_preflight(platform, folder_setup.folder)
        if stale is not None:
            say(stale)


def _stale_preflight(platform: Platform, folder: str) -> str | None:
    """What to say when the workspace's client of the folder runs its pre-flight against
    another setup than the one the folder now has; None when there is no such client, it
    has no mirror yet (its list says so), or its mirror is the folder's setup."""
    from ledgerbridge.cli.wiring import workspace_on

    workspace = workspace_on(platform)
    try:
        mirrored = workspace.mirror(folder)
        timezone = workspace.client(folder).timezone
    except NotFound:
        return None  # no workspace client tied to the folder
    if mirrored is None:
        return None
    # The pre-flight takes the latest publication in as it runs: that is what it reads.
    published = platform.connector.published_setup(folder)
    read, published_at = published or (mirrored.setup, mirrored.published_at)
    if read == platform.ledger.folder_setup(folder):
        return None
    return (
        "The workspace's pre-flight still reads the setup published on"
        f" {local_time(published_at, timezone)}: ledgerbridge ledger resync-fiscal-years"
        f" {folder} publishes this one to the workspace."
    )


FORKED_FROM_BYTES = 1_000_000  # a smaller batch is posted before forked processes would help
# Entries a forked process reads at a time: a chunk of 3-line entries, prepared, is about
# 330 KB; a process's pipe holds three (forked_posting), so that none waits for another.
POST_CHUNK = 1000
_PROGRESS_EVERY = 1000  # results between two updates of the progress bar, when forked


@app.command("post")
def post(folder: FolderArgument, entries: EntriesArgument) -> None:
    """Check and post a batch: each entry posted whole or rejected whole, once."""
    check_file(entries, "ENTRIES", stdin=True)
    ledger = open_ledger()
    reader = BatchReader(expected_folder=folder)
    with named_input(entries), local_file(entries) as path, ResultSpool(is_json()) as spool:
        size = file_size(path)
        forked = size >= FORKED_FROM_BYTES and may_fork()
        # A plain JSON batch is read by one forked process per core, a chunk each in turn;
        # any other by one, which streams it.
        chunked = BatchChunks.of_file(path, reader, str(path), POST_CHUNK) if forked else None
        with file_progress("Posting", size) as progress:
            if chunked is not None:
                total = chunked.entries
                ledger.post_batch(
                    folder,
                    chunked,
                    on_result=_telling(spool.add, progress, lambda done: size * done // total),
                    before_commit=lambda: reader.finish(source=entries),
                    forked=True,
                )
            else:
                # Forked, another process reads the batch: it tells how far in a shared page.
                position = ReadPosition() if forked else None
                ledger.post_batch(
                    folder,
                    stream_entries(path, reader, progress=position.set if position else progress),
                    on_result=_telling(spool.add, progress, position.read)
                    if position
                    else spool.add,
                    before_commit=lambda: reader.finish(source=entries),
                    forked=forked,
                )
        with not_interrupted(always=True):  # posted: the results are told whole
            spool.publish()
            say(f"Folder {folder}: {spool.summary()}.")


def _telling(
    on_result: Callable[[CheckResult], None],
    progress: Callable[[int], None],
    position: Callable[[int], int],
) -> Callable[[CheckResult], None]:
    """`on_result`, telling `progress` every so many results how far into the batch's bytes
    the posting has come: `position(results so far)`."""
    counted = itertools.count(1)

    def each(result: CheckResult) -> None:
        on_result(result)
        done = next(counted)
        if not done % _PROGRESS_EVERY:
            progress(position(done))

    return each


class ReadPosition:
    """How far a forked process has read a file, in a page it shares with this process."""

    def __init__(self) -> None:
        self._page = mmap.mmap(-1, _POSITION.size)  # anonymous, shared with forked processes

    def set(self, position: int) -> None:
        _POSITION.pack_into(self._page, 0, position)

    def read(self, _results: int) -> int:
        """Where the reading process is (whatever the results so far)."""
        position: int = _POSITION.unpack_from(self._page)[0]
        return position


_POSITION = struct.Struct("<Q")


@app.command("entries")
def entries(
    folder: FolderArgument,
    fiscal_year: Annotated[
        str | None, typer.Option("--fiscal-year", help="Only this fiscal year.")
    ] = None,
) -> None:
    """The posted entries of a folder, with their entry numbers."""
    ledger = open_ledger()
    posted = ledger.posted_entries(folder, fiscal_year)
    if is_json():
        with json_list("entries") as write:
            for entry in posted:
                write(entry.as_dict())
        return
    # The columns of variable width are sized from the longest values before the first row,
    # and the label, the one left free, comes last: the header stands over its columns.
    widths = ledger.posted_widths(folder, fiscal_year)
    number_width = max(len("ENTRY"), widths.fiscal_year + 1 + widths.number)
    journal_width = max(len("JNL"), widths.journal)
    id_width = max(len("ID"), widths.entry_id)
    count = 0
    for entry in posted:
        if not count:
            sys.stdout.write(
                f"{'ENTRY':<{number_width}}  {'DATE':<10}  {'JNL':<{journal_width}}"
                f"  {'TOTAL':>12}  {'ID':<{id_width}}  LABEL\n"
                f"    {'ACCOUNT':<{_ACCOUNT_WIDTH}}  {'DEBIT':>12}  {'CREDIT':>12}  LABEL\n"
            )
        count += 1
        total = sum((line.debit or 0 for line in entry.lines), start=0)
        number = f"{entry.fiscal_year}/{entry.number}"
        sys.stdout.write(
            f"{number:<{number_width}}  {entry.date}  {entry.journal:<{journal_width}}"
            f"  {total:>12.2f}  {entry.id:<{id_width}}  {entry.label or ''}".rstrip()
            + "\n"
        )
        accounts = [
            f"{line.account} {line.auxiliary}" if line.auxiliary else line.account
            for line in entry.lines
        ]
        width = max([_ACCOUNT_WIDTH, *map(len, accounts)])
        for account, line in zip(accounts, entry.lines, strict=True):
            debit = f"{line.debit:.2f}" if line.debit else ""
            credit = f"{line.credit:.2f}" if line.credit else ""
            sys.stdout.write(
                f"    {account:<{width}}  {debit:>12}  {credit:>12}  {line.label or ''}".rstrip()
                + "\n"
            )
    say(f"Folder {folder}: {counted(count, 'posted entry', 'posted entries')}.")


_ACCOUNT_WIDTH = 16  # account and auxiliary account: wider ones push their line's amounts


@app.command("export-fec")
def export_fec(
    folder: FolderArgument,
    fiscal_year: Annotated[
        str | None,
        typer.Option("--fiscal-year", help="Default: the latest holding posted entries."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="File to write, or a directory to write it into (- for standard output).",
        ),
    ] = None,
) -> None:
    """The FEC file of one fiscal year (article A47 A-1 of the LPF)."""
    if output == "-" and is_json():
        # Standard output holds one JSON object under --json: the file cannot go there too.
        raise typer.BadParameter(
            "the FEC file cannot go to standard output with --json: name a file"
            " (-o FILE, or no -o for the FEC's own name), or leave --json out",
            param_hint="-o",
        )
    ledger = open_ledger()
    if output == "-":
        export = ledger.export_fec(folder, sys.stdout, fiscal_year)
        say(
            f"Wrote the FEC of fiscal year {export.fiscal_year}"
            f" ({counted(export.entries, 'entry', 'entries')},"
            f" {counted(export.lines, 'line', 'lines')})."
        )
        return
    # A directory given to -o takes the file under the FEC's own name, as no -o does.
    given = Path(output) if output is not None else Path.cwd()
    named = None if given.is_dir() else given
    directory = given if named is None else given.parent
    if not directory.is_dir():
        raise Refusal(
            f"Cannot write the FEC file into {directory}: no such directory.",
            fix="Name a file in an existing directory with -o FILE (or - for standard output).",
        )
    handle, name = tempfile.mkstemp(dir=directory, prefix=".fec-", suffix=".tmp")
    os.close(handle)
    spool = Path(name)
    spool.chmod(0o644)  # a file for others to read, not mkstemp's private mode
    try:
        with spool.open("w", encoding="utf-8", newline="") as out:
            export = ledger.export_fec(folder, out, fiscal_year)
    except BaseException:
        spool.unlink()
        raise
    target = directory / export.file_name if named is None else named
    try:
        spool.replace(target)
    except OSError as error:
        spool.unlink()
        raise Refusal(
            f"Cannot write the FEC file {target}: {error.strerror or error}.",
            fix="Name a file you may write with -o FILE, a directory to write it into with"
            " -o DIR, or - for standard output.",
        ) from None
    if is_json():
        emit({"export": {**export.as_dict(), "path": str(target)}})
    say(
        f"Wrote {target}: FEC of folder {folder}, fiscal year {export.fiscal_year},"
        f" {counted(export.entries, 'entry', 'entries')}, {counted(export.lines, 'line', 'lines')}."
    )
