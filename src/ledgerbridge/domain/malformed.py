"""A malformed document: refused whole, with every problem listed by its path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Location = tuple[int | str, ...]  # a value's place in a document: ("fiscal_years", 0, "end")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a document, at a path such as `entries[3].lines[1].debit`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class MalformedDocument(Exception):
    """The document cannot be read as the format says; nothing of it is stored."""

    def __init__(self, problems: Sequence[Problem], *, source: str = "document") -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__(self.summary())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole, so that a document read in a forked process is refused the same
        # way in the process that waits for it.
        return (_refusing, (self.problems, self.source))

    def summary(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.source} is malformed ({count} {noun}); nothing was stored:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


def _refusing(problems: Sequence[Problem], source: str) -> MalformedDocument:
    return MalformedDocument(problems, source=source)


def join_path(prefix: str, location: Iterable[int | str]) -> str:
    """`("entries", 3, "lines", 1, "debit")` -> `entries[3].lines[1].debit`."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path
