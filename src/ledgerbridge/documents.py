"""Reading the documents people and programs hand over: JSON or YAML.

A JSON batch is held as bytes (a fraction of what Python objects would take) and its entries
are decoded one at a time, at C speed, so a batch of a million lines fits in little memory.

Formats follow the file name: `.yaml`/`.yml` is YAML, anything else JSON. JSON numbers and
YAML floats become Decimal, never float; YAML dates stay text so the domain validates them.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import ijson
import msgspec
import yaml

from ledgerbridge.domain.entries import BATCH_FIELDS, BatchReader, Entry
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


_PROGRESS_EVERY = 1 << 20  # bytes of entries between two progress reports


def _top_level_keys(data: bytes) -> list[str]:
    """Every key of the batch's top level in the order written, duplicates kept (ijson pass).

    Slower than the fast reader: used only when a key's text occurs more than once.
    """
    return [
        value for prefix, event, value in ijson.parse(data) if prefix == "" and event == "map_key"
    ]


def _keys_as_written(data: bytes, keys: list[str]) -> list[str]:
    """The top-level keys with any duplicate: a key whose exact text occurs once is unique."""
    if len(keys) <= len(BATCH_FIELDS) + 3 and all(
        data.count(json.dumps(key, ensure_ascii=False).encode()) == 1 for key in keys
    ):
        return keys
    return _top_level_keys(data)


def _describe_json(raw: msgspec.Raw) -> str:
    value = msgspec.json.decode(raw)
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    kind = {str: "string", bool: "boolean"}.get(type(value), "number")
    return f"the {kind} {value!r}"


def _not_json(data: bytes, error: msgspec.DecodeError, source: str) -> MalformedDocument:
    """msgspec's message, its byte offset told as a line and column."""
    message = str(error).removeprefix("JSON is malformed: ")
    where = message.rsplit("(byte ", 1)
    if len(where) == 2 and where[1].rstrip(")").isdigit():
        offset = int(where[1].rstrip(")"))
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        message = f"{where[0].strip()} at line {line}, column {column}"
    return MalformedDocument([Problem("", f"not valid JSON: {message}")], source=source)


def _json_entries(
    data: bytes, reader: BatchReader, progress: Progress | None, source: str
) -> Iterator[Entry]:
    """The batch read at C speed: its top level first, then each entry from its own text."""
    try:
        top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    except msgspec.DecodeError as error:
        raise _not_json(data, error, source) from None
    except msgspec.ValidationError:
        reader.problems.append(Problem("", "expected an object with `folder` and `entries`"))
        return
    reader.top_level_keys(_keys_as_written(data, list(top)))
    reader.header({"folder": msgspec.json.decode(top["folder"])} if "folder" in top else {})
    if "entries" not in top:
        return
    try:
        items = msgspec.json.decode(top["entries"], type=list[msgspec.Raw])
    except msgspec.ValidationError:
        reader.not_a_list(_describe_json(top["entries"]))
        return
    del top
    done = reported = 0
    for item in items:
        entry = reader.entry_json(item)
        if progress is not None:
            done += len(memoryview(item))
            if done - reported >= _PROGRESS_EVERY:
                reported = done
                progress(done)
        if entry is not None:
            yield entry
    if progress is not None:
        progress(len(data))


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
        yield from _json_entries(path.read_bytes(), reader, progress, source)
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
