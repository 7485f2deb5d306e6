"""Counts in the messages people read, agreeing with their nouns: "1 entry", "2 entries"."""

from __future__ import annotations


def counted(number: int, singular: str, plural: str) -> str:
    """`number` followed by the words that agree with it: `singular` for exactly one,
    `plural` otherwise (zero included, as English says "0 entries").

    The words may carry the verb whose subject the count is, so it agrees too:
    `counted(n, "batch waits", "batches wait")`. The number is written as every message
    writes a count, without a thousands separator.
    """
    return f"{number} {singular if number == 1 else plural}"
