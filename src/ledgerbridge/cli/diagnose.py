"""`ledgerbridge rejections / doctor`: what the ledger refused, and why entries may be stuck."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from ledgerbridge.cli.output import emit, is_json, say
from ledgerbridge.cli.platform_access import open_platform
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
    for row in rows:
        state = "expected" if row["expected"] else ("settled" if row["settled"] else "open")
        revision = f" rev {row['revision']}" if row["revision"] is not None else ""
        at = local_time(datetime.fromisoformat(row["at"]), timezone)
        sys.stdout.write(
            f"{at}  {state:<8}  {row['id']}{revision}  {row['code'] or ''}: {row['message']}\n"
        )


def doctor(folder: FolderArgument) -> None:
    """Diagnostics: API, connector, credential, fiscal period, waiting batches, mirror."""
    checks = open_platform().diagnostics.doctor(folder)
    if is_json():
        emit({"checks": [check.as_dict() for check in checks]})
        return
    for check in checks:
        mark = "✓" if check.ok else "✗"
        sys.stdout.write(f"{mark} {check.name:<16} {check.message}\n")
        if check.fix:
            sys.stdout.write(f"  {'':<16} fix: {check.fix}\n")
    problems = sum(not check.ok for check in checks)
    say(
        f"Client {folder}: {counted(problems, 'problem', 'problems')} found."
        if problems
        else f"Client {folder}: all clear."
    )
