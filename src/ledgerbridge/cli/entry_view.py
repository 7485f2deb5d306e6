"""One entry as a person reads it on a terminal: its document, then its status and what to do."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ledgerbridge.cli.ledger_side_fixes import ledger_side_steps
from ledgerbridge.domain.lifecycle import TRANSITIONS, Action, Status

if TYPE_CHECKING:
    from ledgerbridge.workspace.entries import EntryRow

# The statuses in which an entry can still be edited: the lifecycle's own table says.
EDITABLE = frozenset(status for status, action in TRANSITIONS if action is Action.EDIT)


def readable_document(document: Mapping[str, Any]) -> str:
    """The entry as JSON a person reads and copies into a patch: a field a line, and each
    item of a list (each of the entry's lines) on a line of its own."""

    def compact(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    fields = []
    for key, value in document.items():
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {compact(item)}" for item in value)
            fields.append(f"  {compact(key)}: [\n{items}\n  ]")
        else:
            fields.append(f"  {compact(key)}: {compact(value)}")
    return "{\n" + ",\n".join(fields) + "\n}"


def entry_lines(folder: str, row: EntryRow) -> list[str]:
    """The entry's status lines, each under its label, then the steps of a fix in the ledger."""
    lines = [
        f"Entry {row.id} of client {folder}",
        f"  revision    {row.revision}",
        f"  status      {row.status.shown_as}",
    ]
    if row.status is Status.SYNC_FAILED:
        lines.append(f"  ledger      {row.code}: {row.message}")
    if row.predicted is not None:
        lines.append(
            f"  pre-flight  will be rejected: {row.predicted['code']}: {row.predicted['message']}"
        )
    if row.ledger_number is not None:
        lines.append(f"  entry no    {row.ledger_number}")
    if row.remedy is not None:
        lines.append(f"  cause       {row.remedy.cause}")
        lines.extend(f"              {precise}" for precise in row.remedy.precise)
        lines.extend(f"  fix         {action}" for action in row.remedy.actions)
    steps = ledger_side_steps(folder, [row])
    return [*lines, "", *steps] if steps else lines
