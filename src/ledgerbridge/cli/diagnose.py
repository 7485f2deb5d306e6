"""`ledgerbridge rejections / doctor`: what the ledger refused, and why entries may be stuck."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from ledgerbridge.cli.output import emit, is_json, say
from ledgerbridge.cli.platform_access import open_platform
from ledgerbridge.cli.tables import print_table
from ledgerbridge.cli.wiring import workspace_on
from ledgerbridge.domain.clock import local_time
from ledgerbridge.domain.plurals import counted

FolderArgument = Annotated[str, typer.Argument(metavar="FOLDER", help="The client's folder code.")]


def rejections(folder: FolderArgument) -> None:
    """The Rejections tab: every rejection received, newest first, settled or not."""
    platform = open_platform()
    rows = platform.diagnostics.rejections(folder)
    if is_json():
        emit({"rejections": rows})
        return
    if not rows:
        say(f"Client {folder}: no rejection received.")
        return
    timezone = workspace_on(platform).client(folder).timezone
    print_table(
        ["AT", "STATE", "ENTRY", "REV", "CODE", "MESSAGE"],
        [
            [
                local_time(datetime.fromisoformat(row["at"]), timezone),
                _state(row),
                row["id"],
                str(row["revision"]) if row["revision"] is not None else "-",
                row["code"] or "-",
                row["message"],
            ]
            for row in rows
        ],
        whole=(0, 2, 3),
    )


def _state(row: dict[str, Any]) -> str:
    """In plain words: not `open`, which a fiscal year and `ledger open` already mean."""
    if row["expected"]:
        return "expected"
    return "settled" if row["settled"] else "not settled"


def doctor(folder: FolderArgument) -> None:
    """Diagnostics: API, connector, credential, fiscal period, waiting batches, mirror."""
    diagnostics = open_platform().diagnostics
    checks = diagnostics.doctor(folder)
    # Not a check (SPEC §7 fixes the six): the entries waiting for the accountant's fix.
    notes = diagnostics.entry_failures(folder).notes()
    if is_json():
        emit({"checks": [check.as_dict() for check in checks], "notes": notes})
        return
    for check in checks:
        mark = "✓" if check.ok else "✗"
        sys.stdout.write(f"{mark} {check.name:<16} {check.message}\n")
        if check.fix:
            sys.stdout.write(f"  {'':<16} fix: {check.fix}\n")
    for note in notes:
        sys.stdout.write(f"! {note}.\n")
    problems = sum(not check.ok for check in checks)
    if problems:
        say(f"Client {folder}: {counted(problems, 'problem', 'problems')} found.")
    elif notes:
        say(
            f"Client {folder}: the link to the ledger is in order; what is listed above waits"
            " for its fix."
        )
    else:
        say(f"Client {folder}: all clear.")
