"""Keys given twice in a JSON object. JSON readers keep the last value without a word (a
debit of 100 then 1 reads as 1); here each such key is found and named by its path."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ledgerbridge.domain.malformed import Problem, join_path


class KeysGivenTwice:
    """An `object_pairs_hook` for Python's json that notes every key given twice."""

    def __init__(self) -> None:
        self._twice: list[tuple[dict[str, Any], str]] = []  # (the object, a key in it twice)

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        if len(value) < len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self._twice.append((value, key))
                seen.add(key)
        return value

    def problems(self, document: Any, prefix: str = "") -> list[Problem]:
        """`<path>.<key>: given twice` for each, in the order written; each object is found
        in `document` by its identity (kept alive here, so no other can take it)."""
        if not self._twice:
            return []
        keys: dict[int, list[str]] = {}
        for value, key in self._twice:
            keys.setdefault(id(value), []).append(key)
        problems = []
        pending: list[tuple[str, Any]] = [(prefix, document)]
        while pending:  # depth first, in the order written
            path, value = pending.pop()
            if isinstance(value, dict):
                problems += [
                    Problem(join_path(path, [key]), "given twice")
                    for key in keys.get(id(value), [])
                ]
                items = [(join_path(path, [key]), item) for key, item in value.items()]
            elif isinstance(value, list):
                items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
            else:
                continue
            pending += reversed(items)
        return problems


def json_given_twice(text: bytes | str, prefix: str = "") -> tuple[Any, list[Problem]]:
    """The JSON document (amounts as Decimal) and a problem for each key given twice in it.

    Raises ValueError (json.JSONDecodeError, UnicodeDecodeError) for text that is not JSON.
    """
    twice = KeysGivenTwice()
    document = json.loads(text, parse_float=Decimal, object_pairs_hook=twice)
    return document, twice.problems(document, prefix)
