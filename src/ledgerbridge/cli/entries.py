"""`ledgerbridge entries ...`: a client's entries in the workspace, from import to verification."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledgerbridge.cli.entry_view import EDITABLE, entry_lines, readable_document
from ledgerbridge.cli.files import check_file, file_size, named_input, source_name
from ledgerbridge.cli.ledger_side_fixes import ledger_side_steps
from ledgerbridge.cli.output import emit, file_progress, is_json, not_interrupted, say
from ledgerbridge.cli.tables import print_table
from ledgerbridge.cli.wiring import open_workspace
from ledgerbridge.documents import load_document, local_file, stream_entries
from ledgerbridge.domain.clock import local_time
from ledgerbridge.domain.entries import BatchReader
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.plurals import counted

if TYPE_CHECKING:
    from ledgerbridge.domain.merge_patch import ShortenedList
    from ledgerbridge.workspace.entries import EntryRow
    from ledgerbridge.workspace.mirror import Mirror
    from ledgerbridge.workspace.transitions import Change

app = typer.Typer(
    help="A client's entries: import, list, show, verify, edit, exclude, restore, history.",
    no_args_is_help=True,
)

FolderArgument = Annotated[str, typer.Argument(metavar="FOLDER", help="The client's folder code.")]
IdArgument = Annotated[str, typer.Argument(metavar="ID", help="The entry's id.")]
IdsArgument = Annotated[list[str], typer.Argument(metavar="ID...", help="Entry ids.")]


def _write_json_list(name: str, items: Iterable[str]) -> None:
    """`{"name": [...]}` on stdout from items already written as JSON, one per line."""
    with not_interrupted():
        sys.stdout.write(f'{{"{name}": [')
        sys.stdout.write(",\n".join(items))
        sys.stdout.write("]}\n")
        sys.stdout.flush()


@app.command("import")
def import_entries(
    folder: FolderArgument,
    entries: Annotated[
        str,
        typer.Argument(
            metavar="ENTRIES", help="Entries batch (JSON or YAML; - for standard input)."
        ),
    ],
) -> None:
    """Import a batch into the client's To Verify, each entry reported; an id already there with other content becomes a new revision, back to To verify, unless it is synchronizing, synchronized or excluded (then left as it is)."""
    check_file(entries, "ENTRIES", stdin=True)
    workspace = open_workspace()
    workspace.refresh_mirror(folder)
    reader = BatchReader(expected_folder=folder)
    with (
        named_input(entries),
        local_file(entries) as path,
        file_progress("Importing", file_size(path)) as progress,
    ):
        report = workspace.import_entries(
            folder,
            stream_entries(path, reader, progress=progress),
            before_commit=lambda: reader.finish(source=entries),
        )
    if is_json():
        _write_json_list("results", (result.as_json() for result in report.results))
    else:
        sys.stdout.writelines(result.describe() + "\n" for result in report.results)
    say(report.summary())


def _statuses(text: str | None) -> list[Status] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {status.value for status in Status}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise typer.BadParameter(
            f"unknown status {', '.join(unknown) or repr(text)}; the statuses are"
            f" {', '.join(sorted(known))} (several separated by commas)",
            param_hint="--status",
        )
    return [Status(name) for name in names]


def _verdict(row: EntryRow) -> str:
    if row.status is Status.SYNC_FAILED:
        return f"{row.code}: {row.message}"
    if row.predicted is not None:
        return f"will be rejected: {row.predicted['code']}: {row.predicted['message']}"
    return ""


@app.command("list")
def list_entries(
    folder: FolderArgument,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="S[,S...]",
            help="Only these statuses; to_verify,verified,sync_failed is the To Verify tab.",
        ),
    ] = None,
) -> None:
    """Every entry of the client, or those of the given statuses: one row each."""
    statuses = _statuses(status)
    workspace = open_workspace()
    mirrored = workspace.refresh_mirror(folder)
    rows = workspace.list_entries(folder, statuses)
    if is_json():
        _write_json_list("entries", (row.as_json() for row in rows))
    else:
        _print_rows(folder, rows)
    say(_list_summary(folder, rows, mirrored, workspace.client(folder).timezone))


def _print_rows(folder: str, rows: Sequence[EntryRow]) -> None:
    if not rows:
        return
    print_table(
        ["ID", "REV", "STATUS", "ENTRY NO", "LEDGER / PRE-FLIGHT"],
        [
            [
                row.id,
                str(row.revision),
                row.status.shown_as,
                row.ledger_number or "",
                _verdict(row),
            ]
            for row in rows
        ],
        whole=(0, 1, 3),
    )
    troubled = [row for row in rows if row.remedy is not None]
    if troubled:
        sys.stdout.write("\nWhat to do:\n")
    for row in troubled:
        assert row.remedy is not None
        sys.stdout.write(f"  {row.id}: {row.remedy.cause}\n")
        sys.stdout.writelines(f"      {precise}\n" for precise in row.remedy.precise)
        sys.stdout.writelines(f"      fix: {action}\n" for action in row.remedy.actions)
    steps = ledger_side_steps(folder, troubled)
    if steps:
        sys.stdout.write("\n")
        sys.stdout.writelines(f"{step}\n" for step in steps)


@app.command("show")
def show(folder: FolderArgument, entry_id: IdArgument) -> None:
    """An entry as it is now: its document (current revision), status and, if it fails, what to do."""
    view = open_workspace().show_entry(folder, entry_id)
    if is_json():
        emit({"entry": view.as_dict()})
    else:
        sys.stdout.write(readable_document(view.document) + "\n\n")
        sys.stdout.writelines(f"{line}\n" for line in entry_lines(folder, view.row))
    if view.row.status in EDITABLE:
        say(
            f"To edit it: ledgerbridge entries edit {folder} {entry_id} --patch FILE, a merge"
            " patch, in which a list such as lines is replaced whole: give every line."
        )


def _list_summary(
    folder: str, rows: Sequence[EntryRow], mirrored: Mirror | None, timezone: str
) -> str:
    counts: dict[Status, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    parts = ", ".join(f"{count} {status.shown_as.lower()}" for status, count in counts.items())
    text = (
        f"Client {folder}: {counted(len(rows), 'entry', 'entries')}"
        + (f" ({parts})" if parts else "")
        + "."
    )
    if mirrored is None:
        return (
            text + " No mirror of the ledger's setup yet, so no pre-flight"
            f" (in the ledger: ledgerbridge ledger resync-fiscal-years {folder})."
        )
    predicted = sum(1 for row in rows if row.predicted is not None)
    return (
        f"{text} Pre-flight against the setup the ledger published on"
        f" {local_time(mirrored.published_at, timezone)}: {predicted} will be rejected as"
        " written."
    )


def _report_changes(changes: Sequence[Change], done: str, nothing: str) -> None:
    """`done` says what was done to `{entries}`, replaced by their count: "1 entry"."""
    if is_json():
        emit({"results": [change.as_dict() for change in changes]})
    else:
        sys.stdout.writelines(
            f"{change.entry_id}  {change.from_status.shown_as if change.from_status else '-'}"
            f" -> {change.to_status.shown_as}\n"
            for change in changes
        )
    say(done.format(entries=counted(len(changes), "entry", "entries")) if changes else nothing)


@app.command("verify")
def verify(
    folder: FolderArgument,
    ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID...]", help="The entries to mark verified.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every entry to verify and every failed one.")
    ] = False,
    code: Annotated[
        str | None,
        typer.Option("--code", metavar="CODE", help="Every failed entry of this rejection code."),
    ] = None,
) -> None:
    """Mark verified: the given entries, --all, or --code CODE (after a fix in the ledger)."""
    if sum((bool(ids), every, code is not None)) != 1:
        raise typer.BadParameter(
            "name the entries (ID...), or give --all, or --code CODE: one of them"
        )
    workspace = open_workspace()
    if ids:
        changes = workspace.verify(folder, ids)
    elif every:
        changes = workspace.verify_all(folder)
    else:
        assert code is not None
        changes = workspace.verify_failed_with_code(folder, code)
    _report_changes(
        changes,
        f"Client {folder}: {{entries}} marked verified, to be sent at the next"
        f" synchronization (ledgerbridge sync {folder}), or the following night when sending"
        " is automatic.",
        f"Client {folder}: nothing to mark verified.",
    )


def _read_patch(name: str) -> Any:
    """The patch document, from a JSON or YAML file or standard input (`-`)."""
    check_file(name, "--patch", stdin=True)
    with named_input(name, "patch"):
        if name != "-":
            document = load_document(Path(name))
        else:
            text = sys.stdin.read()
            suffix = ".json" if text.lstrip().startswith(("{", "[")) else ".yaml"
            with tempfile.TemporaryDirectory() as directory:
                spool = Path(directory) / f"patch{suffix}"
                spool.write_text(text, encoding="utf-8")
                document = load_document(spool)
    if document is None:  # an empty YAML document (or `null`): no change was given
        empty = Problem(
            "",
            "the patch is empty: give the fields to change as an object, such as"
            ' {"label": "EDF avril 2026"}',
        )
        raise MalformedDocument([empty], source=f"patch {source_name(name)}")
    return document


@app.command("edit")
def edit(
    folder: FolderArgument,
    entry_id: IdArgument,
    patch: Annotated[
        str,
        typer.Option(
            "--patch",
            metavar="FILE",
            help="RFC 7386 merge patch (JSON or YAML; - for standard input).",
        ),
    ],
) -> None:
    """Correct an entry with a merge patch: a new revision, back to To verify."""
    document = _read_patch(patch)
    outcome = open_workspace().edit(
        folder, entry_id, document, source=f"patch {source_name(patch)}"
    )
    if is_json():
        emit({"results": [outcome.as_dict()]})
    say(outcome.describe())
    for shortened in outcome.shortened:
        say(_shortened_warning(folder, entry_id, shortened))


# What the items of a list of an entry are called, by the list's name.
_ITEM_NOUNS = {"lines": ("line", "lines"), "analytics": ("allocation", "allocations")}


def _shortened_warning(folder: str, entry_id: str, shortened: ShortenedList) -> str:
    one, many = _ITEM_NOUNS.get(shortened.path.rsplit(".", 1)[-1], ("item", "items"))
    if shortened.removed:
        return (
            f"Warning: the patch removed {shortened.path} (null):"
            f" {counted(shortened.before, one, many)} before, none now; to change some of"
            f" them, give every {one} in the list (see `ledgerbridge entries show {folder}"
            f" {entry_id}`)."
        )
    return (
        f"Warning: the patch replaced {shortened.path} whole:"
        f" {counted(shortened.before, one, many)} before, {shortened.after} now; a list in a"
        f" merge patch is replaced, not merged: give every {one} (see `ledgerbridge entries"
        f" show {folder} {entry_id}`)."
    )


@app.command("exclude")
def exclude(folder: FolderArgument, ids: IdsArgument) -> None:
    """Exclude entries from the workspace flow: never sent, until restored."""
    changes = open_workspace().exclude(folder, ids)
    _report_changes(changes, f"Client {folder}: {{entries}} excluded.", "Nothing excluded.")


@app.command("restore")
def restore(folder: FolderArgument, ids: IdsArgument) -> None:
    """Bring excluded entries back to To verify."""
    changes = open_workspace().restore(folder, ids)
    _report_changes(
        changes, f"Client {folder}: {{entries}} restored to To verify.", "Nothing restored."
    )


@app.command("history")
def history(folder: FolderArgument, entry_id: IdArgument) -> None:
    """Every status change of an entry across its revisions, with its import and edits."""
    workspace = open_workspace()
    lines = workspace.history(folder, entry_id)
    if is_json():
        emit({"history": [line.as_dict() for line in lines]})
        return
    timezone = workspace.client(folder).timezone
    print_table(
        ["AT", "ACTOR", "FROM", "TO", "REV", "MESSAGE"],
        [
            [
                local_time(line.at, timezone),
                line.actor,
                line.from_status.shown_as if line.from_status is not None else "-",
                line.to_status.shown_as,
                str(line.revision),
                line.message or "",
            ]
            for line in lines
        ],
        whole=(0, 4),
    )
