"""Lists as people read them: a table on a terminal, aligned plain text when piped."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Past this many rows a drawn table takes long to lay out; plain text serves better.
MAX_DRAWN_ROWS = 2000


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Rows under their headers on stdout: drawn with rich on a terminal, plain otherwise."""
    if sys.stdout.isatty() and len(rows) <= MAX_DRAWN_ROWS:
        table = Table(*headers, box=box.SIMPLE_HEAD, highlight=False, pad_edge=False)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # Text: brackets are not markup
        Console(highlight=False).print(table)
        return
    widths = [
        max([len(header), *(len(row[column]) for row in rows)])
        for column, header in enumerate(headers)
    ]
    for line in [list(headers), *rows]:
        cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=False)]
        sys.stdout.write("  ".join([*cells, line[-1]]).rstrip() + "\n")
