"""Reading the documents people and programs hand over: JSON or YAML.

A JSON batch is held as bytes, read or mapped from its file (a fraction of what Python objects
would take), and its entries are decoded one at a time, at C speed, so a batch of a million
lines fits in little memory.

Formats follow the file name: `.yaml`/`.yml` is YAML, anything else JSON. JSON numbers and
YAML floats become Decimal, never float; YAML dates stay text so the domain validates them.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeVar

import msgspec

from ledgerbridge.domain.entries import BATCH_FIELDS, BatchReader, Entry
from ledgerbridge.domain.given_twice import KeysGivenTwice
from ledgerbridge.domain.malformed import MalformedDocument, Problem, join_path
from ledgerbridge.domain.setup import FolderSetup, parse_setup

if TYPE_CHECKING:
    import yaml

Progress = Callable[[int], None]  # called with the bytes read so far
BatchText = bytes | mmap.mmap  # a JSON batch, read or mapped

# PyYAML and ijson are imported when a document needs them: most commands read JSON only,
# and a short command's time is mostly its start.


class _YamlLoader(Protocol):
    given_twice: list[tuple[int, Problem]]  # (where the key is written, the problem)

    def get_single_data(self) -> Any: ...

    def dispose(self) -> None: ...


_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


@cache
def _decimal_loader() -> Callable[[BinaryIO], _YamlLoader]:
    """YAML for money: floats read as Decimal from their text, timestamps kept as text; and a
    mapping's key given twice noted by its path (the document keeps its last value)."""
    import yaml

    def path_part(index: yaml.Node | int | None) -> int | str | None:
        """What a node composed under `index` adds to the path: its position, its key's text."""
        if index is None or isinstance(index, int):
            return index
        return str(index.value) if isinstance(index, yaml.ScalarNode) else "?"

    class DecimalLoader(yaml.SafeLoader):
        # Keys given twice are found as the document is composed into nodes: the path of
        # each node is known there, and no merge (`<<`) has yet added keys of its own.
        def __init__(self, stream: BinaryIO) -> None:
            super().__init__(stream)
            self.given_twice: list[tuple[int, Problem]] = []
            self._path: list[int | str] = []  # where the node being composed is

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            # `index`: a mapping's value is composed under its key's node, a sequence's item
            # by its position; a key, or the document itself, under None.
            part = path_part(index)
            if part is None:
                return super().compose_node(parent, index)
            self._path.append(part)
            try:
                return super().compose_node(parent, index)
            finally:
                self._path.pop()

        def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
            node = super().compose_mapping_node(anchor)
            seen: set[tuple[str, str]] = set()
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    continue
                if (key.tag, key.value) in seen:
                    path = join_path("", (*self._path, key.value))
                    self.given_twice.append((key.start_mark.index, Problem(path, "given twice")))
                seen.add((key.tag, key.value))
            return node

    def decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal | str:
        text = str(loader.construct_scalar(node))
        try:
            return Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text  # .inf, .nan: left for the schema to refuse as not a number

    def plain_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
        # YAML 1.1 reads 0042 as octal 34, 0x1F as 31 and 1:30 as 90: a code such as an
        # account 0512 stays as written (an amount as text is read as the schema reads one).
        text = str(loader.construct_scalar(node))
        return int(text) if _PLAIN_INT.fullmatch(text) else text

    DecimalLoader.add_constructor("tag:yaml.org,2002:float", decimal_float)
    DecimalLoader.add_constructor("tag:yaml.org,2002:int", plain_int)
    DecimalLoader.add_constructor(
        "tag:yaml.org,2002:timestamp",
        lambda loader, node: str(loader.construct_scalar(node)),  # type: ignore[arg-type]
    )
    return DecimalLoader


def is_yaml(path: Path) -> bool:
    return path.suffix.lower() in {".yaml", ".yml"}


@dataclass(frozen=True)
class LoadedDocument:
    """A small document as plain Python values, and a problem for each key given twice in
    it (`<path>.<key>: given twice`), in the order written; the key's last value is kept."""

    value: Any
    given_twice: list[Problem]


def _load_yaml(path: Path) -> LoadedDocument:
    import yaml

    try:
        with path.open("rb") as stream:
            loader = _decimal_loader()(stream)  # a SafeLoader subclass
            try:
                value = loader.get_single_data()
            finally:
                loader.dispose()
    except yaml.reader.ReaderError as error:
        if error.encoding in {None, "unicode"}:  # a character YAML does not allow, in text
            raise MalformedDocument(
                [Problem("", f"not valid YAML: {error}")], source=str(path)
            ) from None
        raise MalformedDocument(
            [Problem("", f"not UTF-8 text: {error.reason} (save the file as UTF-8)")],
            source=str(path),
        ) from None
    except yaml.YAMLError as error:
        raise MalformedDocument(
            [Problem("", f"not valid YAML: {error}")], source=str(path)
        ) from None
    written = sorted(loader.given_twice, key=lambda twice: twice[0])
    return LoadedDocument(value, [problem for _, problem in written])


def _load_json(stream: BinaryIO) -> LoadedDocument:
    twice = KeysGivenTwice()
    value = json.load(stream, parse_float=Decimal, object_pairs_hook=twice)
    return LoadedDocument(value, twice.problems(value))


# A setup, a reference, a patch or a YAML batch goes a few levels deep; far deeper is no such
# document, and reading it on would exhaust the interpreter's stack.
MAX_DEPTH = 64


def _too_deep(document: Any) -> bool:
    # A YAML alias makes one list or mapping appear in many places: each is walked again
    # only from deeper than before, or a few aliases of aliases would take for ever.
    deepest: dict[int, int] = {}
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return True
        if not isinstance(value, dict | list) or deepest.get(id(value), 0) >= depth:
            continue
        deepest[id(value)] = depth
        items = value.values() if isinstance(value, dict) else value
        pending += [(item, depth + 1) for item in items]
    return False


def load(path: Path) -> LoadedDocument:
    """A whole small document (a setup, a patch), with its keys given twice."""
    try:
        if is_yaml(path):
            loaded = _load_yaml(path)
        else:
            with path.open("rb") as stream:
                loaded = _load_json(stream)
        if _too_deep(loaded.value):
            raise RecursionError
        return loaded
    except json.JSONDecodeError as error:
        raise MalformedDocument(
            [
                Problem(
                    "", f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
                )
            ],
            source=str(path),
        ) from None
    except UnicodeDecodeError as error:
        raise MalformedDocument(
            [Problem("", f"not UTF-8 text: {error.reason}")], source=str(path)
        ) from None
    except RecursionError:
        deep = f"nested more than {MAX_DEPTH} levels deep, deeper than any document read here"
        raise MalformedDocument([Problem("", deep)], source=str(path)) from None


_NESTED_TOO_DEEP = "nested too deep to be read, far deeper than any entries batch"


def load_document(path: Path) -> Any:
    """A whole small document (a setup, a patch) as plain Python values.

    A key given twice refuses it (MalformedDocument): `read_document` lists those problems
    with the others that reading the document finds.
    """
    loaded = load(path)
    if loaded.given_twice:
        raise MalformedDocument(loaded.given_twice, source=str(path))
    return loaded.value


Read = TypeVar("Read")


def read_document(path: Path, parse: Callable[[Any], Read]) -> Read:
    """A small document read by `parse` (which raises MalformedDocument for what is wrong);
    a key given twice is a problem listed first, with the others."""
    loaded = load(path)
    try:
        value = parse(loaded.value)
    except MalformedDocument as malformed:
        if not loaded.given_twice:
            raise
        problems = [*loaded.given_twice, *malformed.problems]
        raise MalformedDocument(problems, source=malformed.source) from None
    if loaded.given_twice:
        raise MalformedDocument(loaded.given_twice, source=str(path))
    return value


def read_setup(path: Path) -> FolderSetup:
    return read_document(path, lambda raw: parse_setup(raw, source=str(path)))


_PROGRESS_EVERY = 4096  # entries between two progress reports


@contextmanager
def refused_if_unreadable(source: str) -> Iterator[None]:
    """Text that is not UTF-8, or nested deeper than the reader can follow, met while reading
    a batch, refuses the document whole."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise MalformedDocument(
            [Problem("", f"not UTF-8 text: {error.reason}")], source=source
        ) from None
    except RecursionError:
        raise MalformedDocument([Problem("", _NESTED_TOO_DEEP)], source=source) from None


def _top_level_keys(data: BatchText, source: str) -> list[str]:
    """Every key of the batch's top level in the order written, duplicates kept (ijson pass).

    Slower than the fast reader: used only when a key's text occurs more than once.
    """
    import ijson

    try:
        return [
            value
            for prefix, event, value in ijson.parse(bytes(data))
            if prefix == "" and event == "map_key"
        ]
    except ijson.JSONError as error:
        raise MalformedDocument([Problem("", f"not valid JSON: {error}")], source=source) from None


def _once(data: BatchText, text: bytes, end: int) -> bool:
    """Whether `text` occurs exactly once in the first `end` bytes."""
    first = data.find(text, 0, end)
    return first != -1 and data.find(text, first + 1, end) == -1


_BLANK = b" \t\r\n"


def _skip_blank_back(data: BatchText, end: int) -> int:
    while end and data[end - 1] in _BLANK:
        end -= 1
    return end


def _written_just_before(data: BatchText, key: str, start: int) -> bool:
    """Whether `"key":` is written just before `start`, and the key's text nowhere earlier."""
    colon = _skip_blank_back(data, start)
    if not colon or data[colon - 1] != ord(":"):
        return False
    written = json.dumps(key, ensure_ascii=False).encode()
    at = _skip_blank_back(data, colon - 1) - len(written)
    return at >= 0 and data.find(written, 0, start) == at


def _end_of_keys(data: BatchText, top: dict[str, msgspec.Raw]) -> int:
    """Where the last top-level value starts, when it ends the document as a batch's
    `entries` do: every top-level key is written before it. The whole length otherwise.

    The document's last value is its key's last one, so its length is known, and its start
    is where `"key":` is written just before, the key nowhere earlier. For a key whose last
    value comes earlier, that place falls after the key's own `"key":`, which is written
    earlier then (when written plainly): so only the last pair's key is found.
    """
    whole = len(data)
    end = _skip_blank_back(data, whole)
    if not top or not end or data[end - 1] != ord("}"):
        return whole
    end = _skip_blank_back(data, end - 1)
    for key in reversed(top):  # the last pair's key is most often the last one met
        start = end - len(memoryview(top[key]))
        if start > 0 and _written_just_before(data, key, start):
            return start
    return whole


_SMALL_HEAD = 1 << 20  # bytes of keys read one by one when an escape is among them


def _keys_as_written(data: BatchText, top: dict[str, msgspec.Raw], source: str) -> list[str]:
    """The top-level keys with any duplicate: a key whose exact text occurs once is unique.

    When the last value ends the document, the text before it holds every key: they are
    counted there, or read one by one if an escape could write a key otherwise (and the
    text is not large). If not, they are counted in the whole text.
    """
    keys = list(top)
    end = _end_of_keys(data, top)
    if end < len(data) and data.find(b"\\", 0, end) != -1:
        if end < _SMALL_HEAD:
            with contextlib.suppress(MalformedDocument):
                return _top_level_keys(data[:end] + b"null}", source)  # the last value left out
        end = len(data)
    if len(keys) <= len(BATCH_FIELDS) + 3 and all(
        _once(data, json.dumps(key, ensure_ascii=False).encode(), end) for key in keys
    ):
        return keys
    return _top_level_keys(data, source)


def _describe_json(raw: msgspec.Raw) -> str:
    value = msgspec.json.decode(raw)
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    kind = {str: "string", bool: "boolean"}.get(type(value), "number")
    return f"the {kind} {value!r}"


def _not_json(data: BatchText, error: msgspec.DecodeError, source: str) -> MalformedDocument:
    """msgspec's message, its byte offset told as a line and column; an empty file, or one
    that starts with a byte order mark (as some editors save UTF-8), said as such."""
    if len(data) <= _LEADING_BYTES and not data[:_LEADING_BYTES].strip():
        return MalformedDocument([Problem("", "not valid JSON: the file is empty")], source=source)
    if data[:3] == _BYTE_ORDER_MARK:
        return MalformedDocument(
            [
                Problem(
                    "",
                    "not valid JSON: the file starts with a byte order mark (BOM); save it as"
                    " UTF-8 without BOM",
                )
            ],
            source=source,
        )
    message = str(error).removeprefix("JSON is malformed: ")
    where = message.rsplit("(byte ", 1)
    if len(where) == 2 and where[1].rstrip(")").isdigit():
        offset = int(where[1].rstrip(")"))
        line = data[:offset].count(b"\n") + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        message = f"{where[0].strip()} at line {line}, column {column}"
    return MalformedDocument([Problem("", f"not valid JSON: {message}")], source=source)


_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
_LEADING_BYTES = 4096  # a file of blanks this long or shorter is said to be empty


def _read_header(reader: BatchReader, folder: msgspec.Raw | None) -> None:
    reader.header({} if folder is None else {"folder": msgspec.json.decode(folder)})


def json_batch(data: BatchText, reader: BatchReader, source: str) -> list[msgspec.Raw]:
    """A JSON batch's top level, read at C speed into `reader`; the JSON text of each entry.

    Raises MalformedDocument when `data` is not JSON at all. A batch without an `entries`
    list gives no entries, the reason kept in `reader` with the other problems.
    """
    with refused_if_unreadable(source):
        try:
            top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
        except msgspec.ValidationError:  # JSON, but not an object: before its base class
            reader.not_an_object()
            return []
        except msgspec.DecodeError as error:
            raise _not_json(data, error, source) from None
        reader.top_level_keys(_keys_as_written(data, top, source))
        _read_header(reader, top.get("folder"))
        if "entries" not in top:
            return []
        try:
            return msgspec.json.decode(top["entries"], type=list[msgspec.Raw])
        except msgspec.ValidationError:
            reader.not_a_list(_describe_json(top["entries"]))
            return []


class _Plain(msgspec.Struct, forbid_unknown_fields=True):
    """A batch's top level as it most often is: its `entries` (a list), maybe its `folder`."""

    entries: list[msgspec.Raw]
    folder: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


@dataclass(frozen=True)
class PlainBatch:
    """A JSON batch read in one pass, before its keys are told (`json_top_level_keys`)."""

    items: list[msgspec.Raw]  # the JSON text of each entry
    folder: msgspec.Raw | None

    def read_top_level(self, keys: list[str], reader: BatchReader) -> None:
        """The top level into `reader` (its keys as written, its folder), as `json_batch` reads it."""
        reader.top_level_keys(keys)
        _read_header(reader, self.folder)


def plain_json_batch(data: BatchText) -> PlainBatch | None:
    """The batch read in one pass when its top level is plain: an object holding `entries` (a
    list) and no key but `folder`. None for any other (or no) JSON: `json_batch` tells it."""
    try:
        plain = msgspec.json.decode(data, type=_Plain)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    return PlainBatch(plain.entries, None if plain.folder is msgspec.UNSET else plain.folder)


def json_top_level_keys(data: BatchText, source: str) -> list[str]:
    """The top-level keys of a JSON batch as written, any given twice told twice."""
    with refused_if_unreadable(source):
        try:
            top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
        except msgspec.DecodeError as error:
            raise _not_json(data, error, source) from None
        return _keys_as_written(data, top, source)


def json_entries(
    items: list[msgspec.Raw],
    reader: BatchReader,
    source: str,
    *,
    progress: Progress | None = None,
    size: int = 0,
) -> Iterator[Entry]:
    """The well-formed entries among `json_batch`'s texts, in order; problems gather in `reader`.

    `progress` hears, now and then, how far into the `size` bytes of the batch reading is.
    """
    with refused_if_unreadable(source):
        read = reader.entry_json
        for done, item in enumerate(items, 1):
            entry = read(item)
            if progress is not None and not done % _PROGRESS_EVERY:
                progress(size * done // len(items))
            if entry is not None:
                yield entry
    if progress is not None:
        progress(size)


def _yaml_entries(document: Any, reader: BatchReader) -> Iterator[Entry]:
    if not isinstance(document, dict):
        reader.not_an_object()
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
    if is_yaml(path):
        with refused_if_unreadable(source):
            loaded = load(path)
            reader.problems.extend(loaded.given_twice)
            yield from _yaml_entries(loaded.value, reader)
        return
    data = path.read_bytes()
    items = json_batch(data, reader, source)
    yield from json_entries(items, reader, source, progress=progress, size=len(data))


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
