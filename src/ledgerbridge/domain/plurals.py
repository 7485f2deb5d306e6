"""Counts and lists in the messages people read: "1 entry", "2 entries", "A, B and 3 more"."""

from __future__ import annotations

from collections.abc import Sequence


def counted(number: int, singular: str, plural: str) -> str:
    """`number` followed by the words that agree with it: `singular` for exactly one,
    `plural` otherwise (zero included, as English says "0 entries").

    The words may carry the verb whose subject the count is, so it agrees too:
    `counted(n, "batch waits", "batches wait")`. The number is written as every message
    writes a count, without a thousands separator.
    """
    return f"{number} {singular if number == 1 else plural}"


def listed(names: Sequence[str], limit: int = 10, separator: str = ", ") -> str:
    """`names` joined by commas (or `separator`), the first `limit` of them only, then how
    many more: a message stays readable whether a ledger has three folders or thousands."""
    if len(names) <= limit:
        return separator.join(names)
    return f"{separator.join(names[:limit])} and {len(names) - limit} more"
