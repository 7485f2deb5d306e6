"""Lists as people read them: a table on a terminal, aligned plain text when piped."""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence

# Past this many rows a drawn table takes long to lay out; plain text serves better.
MAX_DRAWN_ROWS = 2000
_LONGEST_UNBROKEN_WORD = 24


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, whole: Collection[int] = (0,)
) -> None:
    """Rows under their headers on stdout: drawn with rich on a terminal, plain otherwise.

    On a narrow terminal the columns wrap, except those in `whole` (by position: an id,
    a time), which are never cut.
    """
    if sys.stdout.isatty() and len(rows) <= MAX_DRAWN_ROWS:
        from rich import box  # loaded for a terminal only: it takes a while
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, highlight=False, pad_edge=False, collapse_padding=True)
        last = len(headers) - 1
        for position, header in enumerate(headers):
            if position == last:  # the free text takes what is left, folding long words
                table.add_column(header, no_wrap=position in whole, overflow="fold")
                continue
            # The other columns break between words, never inside one.
            longest_word = max(
                (len(word) for row in rows for word in row[position].split()), default=0
            )
            table.add_column(
                header,
                no_wrap=position in whole,
                min_width=min(max(longest_word, len(header)), _LONGEST_UNBROKEN_WORD),
            )
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
