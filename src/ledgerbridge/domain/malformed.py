"""A malformed document: refused whole, with every problem listed by its path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError


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

    def summary(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.source} is malformed ({count} {noun}); nothing was stored:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


def join_path(prefix: str, location: Iterable[int | str]) -> str:
    """`("entries", 3, "lines", 1, "debit")` -> `entries[3].lines[1].debit`."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


_PLAIN_MESSAGES = {
    "extra_forbidden": "unknown field",
    "missing": "required field missing",
    "string_type": "expected a text string",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "string_too_short": "must not be empty",
    "greater_than": "must be greater than {gt}",
    "literal_error": None,  # pydantic's own text names the allowed values
}
_WITHOUT_VALUE = {"missing", "extra_forbidden", "string_too_short"}


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"{type(value).__name__} {value!r}"


def problems_from_validation(error: ValidationError, prefix: str = "") -> list[Problem]:
    """Turn pydantic's errors into problems with readable paths and messages."""
    problems = []
    for item in error.errors(include_url=False):
        kind = item["type"]
        message = _PLAIN_MESSAGES.get(kind)
        if message is not None:
            message = message.format(**item.get("ctx", {}))
            if kind not in _WITHOUT_VALUE:
                message = f"{message}, got {_describe(item.get('input'))}"
        if message is None:
            message = str(item["msg"])
            if message.startswith("Value error, "):
                message = message.removeprefix("Value error, ")
        problems.append(Problem(join_path(prefix, item["loc"]), message))
    return problems
