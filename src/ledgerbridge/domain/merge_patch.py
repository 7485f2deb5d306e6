"""JSON merge patch (RFC 7386): how an accountant's correction applies to an entry document."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """`target` with `patch` applied, as RFC 7386 defines it; neither argument is changed.

    An object patches member by member (`null` removes a member, an object recurses);
    anything else, a list included, replaces the target whole.
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result: dict[str, Any] = (
        {key: copy.deepcopy(value) for key, value in target.items()}
        if isinstance(target, Mapping)
        else {}
    )
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True, slots=True)
class ShortenedList:
    """A list a patch replaced with a shorter one, or removed (`null`, after 0): where
    (`lines`), and its lengths."""

    path: str
    before: int
    after: int
    removed: bool = False


def shortened_lists(target: Any, patch: Any, path: str = "") -> Iterator[ShortenedList]:
    """The lists of `target` that `patch` replaces with fewer items, or removes (`null`).

    A list in a merge patch is replaced, not merged: a patch meant to change one line, given
    as that line alone, drops the others; `null` drops them all. The result is still a valid
    document, so this is the one way to tell.
    """
    if not isinstance(patch, Mapping) or not isinstance(target, Mapping):
        return
    for key, value in patch.items():
        where = f"{path}.{key}" if path else str(key)
        before = target.get(key)
        if value is None and isinstance(before, list) and before:
            yield ShortenedList(where, len(before), 0, removed=True)
        elif isinstance(value, list) and isinstance(before, list) and len(value) < len(before):
            yield ShortenedList(where, len(before), len(value))
        elif isinstance(value, Mapping):
            yield from shortened_lists(before, value, where)
