"""A JSON batch's top level read fast says what an exact reading says: every key given twice,
every unknown one, whatever the layout; and the same of the file read or mapped."""

from __future__ import annotations

import json
import mmap
import random
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.documents import _describe_json, _top_level_keys, json_batch
from ledgerbridge.domain.entries import BatchReader
from ledgerbridge.domain.malformed import MalformedDocument

KEYS = ["folder", "entries", "comment", ":x"]


def _key(rng: random.Random, key: str, escapes: bool) -> str:
    if escapes and rng.random() < 0.3:
        return '"' + "".join(f"\\u{ord(c):04x}" if rng.random() < 0.5 else c for c in key) + '"'
    return json.dumps(key)


def _value(rng: random.Random, escapes: bool, depth: int = 0) -> str:
    pick = rng.random()
    if depth > 2 or pick < 0.3:
        return json.dumps(rng.choice([1, 12, "x", "entries", None, "folder", "ACME"]))
    if pick < 0.6:
        items = (_value(rng, escapes, depth + 1) for _ in range(rng.randint(0, 3)))
        return "[" + ", ".join(items) + "]"
    pairs = (
        _key(rng, rng.choice(KEYS), escapes) + ": " + _value(rng, escapes, depth + 1)
        for _ in range(rng.randint(0, 3))
    )
    return "{" + ", ".join(pairs) + "}"


def _document(seed: int, escapes: bool, entries_last: bool) -> bytes:
    """A batch's top level; with `entries_last`, its `entries` key ends it, written plainly."""
    rng = random.Random(seed)
    keys = [rng.choice(KEYS) for _ in range(rng.randint(0, 5))]
    if entries_last:
        keys.append("entries")
    pairs = [
        _key(rng, key, escapes and (number < len(keys) - 1 or not entries_last))
        + rng.choice([":", ": ", " :\n "])
        + _value(rng, escapes)
        for number, key in enumerate(keys)
    ]
    blank = rng.choice(["", " ", "\n", "\n  "])
    return ("{" + blank + ("," + blank).join(pairs) + blank + "}" + blank).encode()


def _problems(data: bytes | mmap.mmap) -> list[str]:
    reader = BatchReader(expected_folder="ACME", folder_required=True)
    json_batch(data, reader, "batch")
    return [str(problem) for problem in reader.problems]


def _exact_problems(data: bytes) -> list[str]:
    """The problems told when the keys are read one by one, as written."""
    reader = BatchReader(expected_folder="ACME", folder_required=True)
    top = msgspec.json.decode(data, type=dict[str, msgspec.Raw])
    reader.top_level_keys(_top_level_keys(data, "batch"))
    reader.header({"folder": msgspec.json.decode(top["folder"])} if "folder" in top else {})
    if "entries" in top and not isinstance(msgspec.json.decode(top["entries"]), list):
        reader.not_a_list(_describe_json(top["entries"]))
    return [str(problem) for problem in reader.problems]


@settings(max_examples=500)
@given(st.integers(0, 2**32), st.booleans())
def test_keys_written_plainly_are_read_exactly_in_any_layout(seed: int, last: bool) -> None:
    data = _document(seed, escapes=False, entries_last=last)
    assert _problems(data) == _exact_problems(data)


@settings(max_examples=500)
@given(st.integers(0, 2**32))
def test_keys_written_with_escapes_are_read_exactly_before_the_entries(seed: int) -> None:
    data = _document(seed, escapes=True, entries_last=True)
    assert _problems(data) == _exact_problems(data)


def test_a_key_given_twice_is_told_however_it_is_written() -> None:
    data = b'{"\\u0066older": "ACME", "folder": "ACME", "entries": []}'
    assert _problems(data) == ["folder: given twice"]


def test_a_mapped_batch_reads_as_the_same_batch_read(tmp_path: Path) -> None:
    for seed in range(200):
        data = _document(seed, escapes=seed % 2 == 0, entries_last=seed % 3 > 0)
        path = tmp_path / f"batch{seed}.json"
        path.write_bytes(data)
        with path.open("rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        assert _problems(mapped) == _problems(data)


def _refusal(data: bytes) -> list[str]:
    """Every problem the document is refused for, once read to its end (`finish`)."""
    reader = BatchReader(expected_folder="ACME")
    try:
        json_batch(data, reader, "batch")
        reader.finish()
    except MalformedDocument as malformed:
        return [str(problem) for problem in malformed.problems]
    return []


def test_a_batch_that_is_no_object_is_said_to_be_so_alone() -> None:
    for data in (b"[]", b'"entries"', b"12"):
        assert _refusal(data) == ["expected an object with `folder` and `entries`"]


def test_an_empty_file_is_said_to_be_empty() -> None:
    for data in (b"", b"  \n"):
        assert _refusal(data) == ["not valid JSON: the file is empty"]


def test_a_byte_order_mark_is_named_with_the_way_to_save_the_file() -> None:
    [problem] = _refusal(b'\xef\xbb\xbf{"folder": "ACME", "entries": []}')

    assert "byte order mark (BOM)" in problem
    assert "save it as UTF-8 without BOM" in problem
