"""JSON merge patch (RFC 7386): how an accountant's correction applies to an entry document."""

from __future__ import annotations

import copy
from collections.abc import Mapping
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
