"""The fingerprint of an entry's content, kept with its idempotency key by the ledger."""

from __future__ import annotations

import hashlib

import msgspec

from ledgerbridge.domain.entries import Entry, entry_json, lines_json


def fingerprint(entry: Entry) -> str:
    """A SHA-256 of the entry's content as JSON, its id left out (the key's business).

    Entries hold absent values as None and amounts quantized to cents, so equal contents
    however written (`"120.5"` or `120.50`, `""` or a missing key) give one fingerprint.
    """
    return hashlib.sha256(entry_json(msgspec.structs.replace(entry, id=""))).hexdigest()


def fingerprint_and_lines(entry: Entry) -> tuple[str, str]:
    """`fingerprint(entry)` and `lines_json(entry.lines)`, the lines encoded once for both.

    The entry's JSON is its other fields' then its lines', last, written alike: `{...,
    "lines":[...]}`. An entry without lines has the fingerprint of its other fields."""
    lines = lines_json(entry.lines)
    if not entry.lines:
        return fingerprint(entry), lines
    others = entry_json(msgspec.structs.replace(entry, id="", lines=None))
    content = b"".join((others[:-1], b',"lines":', lines.encode(), b"}"))
    return hashlib.sha256(content).hexdigest(), lines


def fingerprint_and_content(entry: Entry) -> tuple[str, str]:
    """`fingerprint(entry)` and the entry's document as the workspace keeps it
    (`entry_json`), encoded once for both.

    The entry's JSON starts with its id, `{"id":"...",`; the fingerprint's is the same JSON
    with the id empty."""
    content = entry_json(entry)
    rest = content[len(_ID_FIELD) + len(_ENCODE(entry.id)) :]
    return hashlib.sha256(_EMPTY_ID + rest).hexdigest(), content.decode()


_ID_FIELD = b'{"id":'
_EMPTY_ID = b'{"id":""'
_ENCODE = msgspec.json.Encoder().encode
