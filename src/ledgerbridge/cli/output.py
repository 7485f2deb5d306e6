"""How commands speak: one JSON object on stdout with `--json`, readable text otherwise.

Messages and progress go to stderr; progress bars only when stderr is a terminal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import IO, TYPE_CHECKING, Any

from ledgerbridge.cli.settings import SETTINGS

if TYPE_CHECKING:
    from rich.console import Console


@cache
def stderr() -> Console:
    """rich's console on stderr, loaded on first need (it takes a while)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_JSON = json.JSONEncoder(ensure_ascii=False, default=_default)


def to_json(value: object) -> str:
    """`json.dumps(value, ensure_ascii=False)`, amounts with 2 decimals, dates in ISO."""
    return _JSON.encode(value)


# What rich would not write as it is: an emoji code, a control code, blanks ending a line.
_RICH_AT_WORK = re.compile(r":\S*?:|[\a\b\t\v\f\r]|\s(?=\n|\Z)")


def _terminal(stream: IO[str]) -> bool:
    """Whether rich takes `stream` for a terminal (its own rule)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in {"0", "1"}:
        return compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    try:
        return stream.isatty()
    except ValueError:
        return False


def say(message: str) -> None:
    """A message for the person at the terminal (stderr, so stdout stays clean).

    Written by rich; when stderr is a file or a pipe and rich would write the message as
    it is, it is written directly, sparing a short command the loading of rich.
    """
    if _terminal(sys.stderr) or _RICH_AT_WORK.search(message):
        stderr().print(message, markup=False)
        return
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@contextmanager
def not_interrupted(*, always: bool = False) -> Iterator[None]:
    """Ctrl-C ignored while the block runs: under --json, so that standard output holds one
    whole object, never one cut short with another after it; `always` where what the command
    did is committed and is being told in full."""
    if not (always or is_json()) or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def emit(obj: dict[str, Any]) -> None:
    """Write the one JSON object of a `--json` command."""
    with not_interrupted():
        sys.stdout.write(to_json(obj) + "\n")
        sys.stdout.flush()


@contextmanager
def json_list(name: str, out: IO[str] | None = None) -> Iterator[Any]:
    """Stream `{"name": [item, ...]}` to stdout one item at a time."""
    stream = out or sys.stdout
    with not_interrupted():
        stream.write(f'{{"{name}": [')
        first = [True]

        def write(item: object) -> None:
            stream.write(("" if first[0] else ",\n") + to_json(item))
            first[0] = False

        yield write
        stream.write("]}\n")
        stream.flush()


@contextmanager
def file_progress(label: str, total_bytes: int) -> Iterator[Any]:
    """A progress bar over a file being read, or nothing when stderr is not a terminal."""
    if not sys.stderr.isatty() or total_bytes < 1_000_000:
        yield lambda position: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=stderr(),
        transient=True,
    )
    with progress:
        task = progress.add_task(label, total=total_bytes)
        yield lambda position: progress.update(task, completed=position)


@contextmanager
def count_progress(
    label: str, *, at_least: int = 5000, then: str | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over items counted (`update(done, total)`), shown on a terminal once
    the total is `at_least`; nothing otherwise. Once every item is counted, the bar says
    `then` (what is still being done), when given."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr(),
        transient=True,
    )
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if total < at_least:
            return
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        finishing = then is not None and done >= total
        bar.update(task, completed=done, total=total, description=then if finishing else label)

    try:
        yield update
    finally:
        if task is not None:
            bar.stop()


@contextmanager
def working(message: str) -> Iterator[None]:
    """An activity indicator with `message` on a terminal while the block runs."""
    if not sys.stderr.isatty():
        yield
        return
    with stderr().status(message):
        yield


def is_json() -> bool:
    return SETTINGS.json
