"""What a chunk of a batch's items, or of its answers, holds: many documents in one JSON text.

An item's content and an answer's result are JSON documents already: they go into their
chunk as they are, not as strings escaped in it, so that writing a chunk is a copy of each,
and reading one finds where each document lies without making Python values of it (the
injection reads an entry straight from its bytes). The one exception is a document that the
schema takes though it is not strict JSON (a lone surrogate escaped in a label, say): it
goes as its text, a JSON string, since a chunk must read whole as strict JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ledgerbridge.relay.injection import Answer, StoredItem

# What a chunk row holds, as msgspec reads it: `[[position, key, kind, content], ...]` and
# `[[position, key, item, result, expected], ...]`.
AnswerRow = tuple[int, str, str | None, dict[str, Any], bool]
_ITEMS = msgspec.json.Decoder(list[tuple[int, str, str, msgspec.Raw]])
_ANSWERS = msgspec.json.Decoder(list[AnswerRow])
_ENCODER = msgspec.json.Encoder()
_STRICT = msgspec.json.Decoder()
_QUOTE = ord('"')  # a document kept as its text; any other is a JSON object


def embedded(text: str) -> msgspec.Raw | str:
    """A document's JSON text as a chunk keeps it: itself when it is strict JSON, else its
    text (for the rare document that only the schema's lenient reader takes)."""
    try:
        _STRICT.decode(text)
    except msgspec.DecodeError:
        return text
    return msgspec.Raw(text)


def items_json(items: Sequence[StoredItem]) -> str:
    """The chunk of these items, as its row keeps it."""
    # A StoredItem is a named tuple: msgspec writes it as the array of its fields.
    return _ENCODER.encode(items).decode()


def items_from_json(text: str) -> list[StoredItem]:
    """The items of a chunk, in order; each content as raw JSON (or its text, see above)."""
    rows = _ITEMS.decode(text)
    items = list(map(StoredItem._make, rows))
    for index, (_, _, _, content) in enumerate(rows):
        if memoryview(content)[0] == _QUOTE:
            items[index] = items[index]._replace(content=_STRICT.decode(content))
    return items


def answers_json(answers: Sequence[Answer]) -> str:
    """The chunk of these answers, as its row keeps it."""
    return _ENCODER.encode(answers).decode()


def answers_from_json(text: str) -> list[AnswerRow]:
    """The answers of a chunk, in order: position, key, item, the §4.3 result, expected."""
    return _ANSWERS.decode(text)
