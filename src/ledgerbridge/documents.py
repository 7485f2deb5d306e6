"""Reading the documents people and programs hand over: JSON (streamed when large) or YAML.

Formats follow the file name: `.yaml`/`.yml` is YAML, anything else JSON. JSON numbers and
YAML floats become Decimal, never float; YAML dates stay text so the domain validates them.
"""

from __future__ import annotations

import itertools
import json
import operator
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import ijson
import yaml

from ledgerbridge.domain.entries import BatchReader, Entry
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.setup import FolderSetup, parse_setup

Progress = Callable[[int], None]  # called with the bytes read so far


class _DecimalLoader(yaml.SafeLoader):
    """YAML for money: floats read as Decimal from their text, timestamps kept as text."""


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node))
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text  # .inf, .nan: left for the schema to refuse as not a number


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)
_DecimalLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: str(loader.construct_scalar(node)),  # type: ignore[arg-type]
)


def is_yaml(path: Path) -> bool:
    return path.suffix.lower() in {".yaml", ".yml"}


def load_document(path: Path) -> Any:
    """A whole small document (a setup, a patch) as plain Python values."""
    try:
        with path.open("rb") as stream:
            if is_yaml(path):
                return yaml.load(stream, Loader=_DecimalLoader)  # a SafeLoader subclass
            return json.load(stream, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise MalformedDocument(
            [
                Problem(
                    "", f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
                )
            ],
            source=str(path),
        ) from None
    except yaml.YAMLError as error:
        raise MalformedDocument(
            [Problem("", f"not valid YAML: {error}")], source=str(path)
        ) from None
    except UnicodeDecodeError as error:
        raise MalformedDocument(
            [Problem("", f"not UTF-8 text: {error.reason}")], source=str(path)
        ) from None


def read_setup(path: Path) -> FolderSetup:
    return parse_setup(load_document(path), source=str(path))


class _CountingReader:
    """A binary file that reports how far it has been read, for progress bars."""

    def __init__(self, stream: IO[bytes], progress: Progress | None) -> None:
        self._stream = stream
        self._progress = progress
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.position += len(chunk)
        if self._progress is not None:
            self._progress(self.position)
        return chunk


_TOP_LEVEL = frozenset({"", "folder", "entries"})
_CONTAINER_STAND_INS: dict[str, object] = {"start_map": {}, "start_array": []}


def _read_skeleton(stream: IO[bytes], reader: BatchReader) -> None:
    """The batch's top level (its keys, `folder`, whether `entries` is a list), in one C-speed pass.

    Only events at the top level are looked at in Python; the entries are skipped by the parser.
    """
    events, prefixes = itertools.tee(ijson.parse(stream))
    wanted = itertools.compress(
        events, map(_TOP_LEVEL.__contains__, map(operator.itemgetter(0), prefixes))
    )
    keys: list[str] = []
    header: dict[str, object] = {}
    seen_entries = False
    first = True
    for prefix, event, value in wanted:
        if first:
            first = False
            if event != "start_map":
                reader.problems.append(
                    Problem("", "expected an object with `folder` and `entries`")
                )
                return
            continue
        if prefix == "" and event == "map_key":
            keys.append(value)
        elif prefix == "folder" and "folder" not in header:
            header["folder"] = _CONTAINER_STAND_INS.get(event, value)
        elif prefix == "entries" and not seen_entries:
            seen_entries = True
            if event != "start_array":
                got = {"start_map": "an object", "null": "null"}.get(
                    event, f"the {event} {value!r}"
                )
                reader.not_a_list(got)
    reader.top_level_keys(keys)
    reader.header(header)


def _json_entries(stream: IO[bytes], reader: BatchReader) -> Iterator[Entry]:
    for raw in ijson.items(stream, "entries.item"):
        entry = reader.entry(raw)
        if entry is not None:
            yield entry


def _yaml_entries(document: Any, reader: BatchReader) -> Iterator[Entry]:
    if not isinstance(document, dict):
        reader.problems.append(Problem("", "expected an object with `folder` and `entries`"))
        return
    reader.top_level_keys(document)
    reader.header({"folder": document["folder"]} if "folder" in document else {})
    entries = document.get("entries")
    if "entries" in document and not isinstance(entries, list):
        reader.not_a_list("an object" if isinstance(entries, dict) else repr(entries))
        return
    for raw in entries or []:
        entry = reader.entry(raw)
        if entry is not None:
            yield entry


def stream_entries(
    path: Path, reader: BatchReader, *, progress: Progress | None = None
) -> Iterator[Entry]:
    """The well-formed entries of a batch file, one at a time; problems gather in `reader`.

    The caller runs `reader.finish()` once the stream is exhausted, before keeping anything:
    a problem found late in a large file still refuses the whole document.
    """
    source = str(path)
    try:
        if is_yaml(path):
            yield from _yaml_entries(load_document(path), reader)
            return
        with path.open("rb") as stream:
            _read_skeleton(stream, reader)
            stream.seek(0)
            yield from _json_entries(_CountingReader(stream, progress), reader)  # type: ignore[arg-type]
    except ijson.JSONError as error:
        raise MalformedDocument([Problem("", f"not valid JSON: {error}")], source=source) from None
    except UnicodeDecodeError as error:
        raise MalformedDocument(
            [Problem("", f"not UTF-8 text: {error.reason}")], source=source
        ) from None


@contextmanager
def local_file(name: str) -> Iterator[Path]:
    """A path to read twice: the file itself, or standard input (`-`) kept in a temporary file."""
    if name != "-":
        yield Path(name)
        return
    with tempfile.NamedTemporaryFile(suffix=".json") as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool)
        spool.flush()
        yield Path(spool.name)
