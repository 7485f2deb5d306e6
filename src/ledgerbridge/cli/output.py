"""How commands speak: one JSON object on stdout with `--json`, readable text otherwise.

Messages and progress go to stderr; progress bars only when stderr is a terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ledgerbridge.cli.settings import SETTINGS

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def say(message: str) -> None:
    """A message for the person at the terminal (stderr, so stdout stays clean)."""
    stderr.print(message, markup=False)


def emit(obj: dict[str, Any]) -> None:
    """Write the one JSON object of a `--json` command."""
    sys.stdout.write(to_json(obj) + "\n")


@contextmanager
def json_list(name: str, out: IO[str] | None = None) -> Iterator[Any]:
    """Stream `{"name": [item, ...]}` to stdout one item at a time."""
    stream = out or sys.stdout
    stream.write(f'{{"{name}": [')
    first = [True]

    def write(item: object) -> None:
        stream.write(("" if first[0] else ",\n") + to_json(item))
        first[0] = False

    yield write
    stream.write("]}\n")


@contextmanager
def file_progress(label: str, total_bytes: int) -> Iterator[Any]:
    """A progress bar over a file being read, or nothing when stderr is not a terminal."""
    if not sys.stderr.isatty() or total_bytes < 1_000_000:
        yield lambda position: None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    )
    with progress:
        task = progress.add_task(label, total=total_bytes)
        yield lambda position: progress.update(task, completed=position)


def is_json() -> bool:
    return SETTINGS.json
