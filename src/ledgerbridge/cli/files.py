"""File arguments: checked before anything is read, and standard input named as such."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from ledgerbridge.domain.malformed import MalformedDocument

STANDARD_INPUT = "standard input"
_STDIN = "-"


def check_file(name: str, hint: str | None = None, *, stdin: bool = False) -> None:
    """Refuse as bad usage (exit 2) a name that is not a file to read: missing, a
    directory, unreadable. With `stdin`, `-` stands for standard input and passes."""
    if stdin and name == _STDIN:
        return
    wanted = "a JSON or YAML file" + (f" (or {_STDIN} for standard input)" if stdin else "")
    path = Path(name)
    if path.is_dir():
        raise typer.BadParameter(
            f"{name} is a directory, not a file: name {wanted}", param_hint=hint
        )
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {name}", param_hint=hint)
    if not os.access(path, os.R_OK):
        raise typer.BadParameter(
            f"{name} cannot be read (permission denied): name {wanted} you may read",
            param_hint=hint,
        )


def checked_file(value: Path | None) -> Path | None:
    """`check_file` as a typer callback, for a file option (`--setup FILE`)."""
    if value is not None:
        check_file(str(value))
    return value


def file_size(path: Path) -> int:
    """The file's size in bytes, for a progress bar: 0 when it cannot be told."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def source_name(name: str) -> str:
    """How a message names the document read from `name`."""
    return STANDARD_INPUT if name == _STDIN else name


@contextmanager
def named_input(name: str, prefix: str = "") -> Iterator[None]:
    """A malformed document read from `name` is named as the user gave it: standard input,
    never the temporary file it was kept in; `prefix` says what the document is (`patch`)."""
    try:
        yield
    except MalformedDocument as malformed:
        source = f"{prefix} {source_name(name)}" if prefix else source_name(name)
        if malformed.source == source:
            raise
        raise MalformedDocument(malformed.problems, source=source) from None
