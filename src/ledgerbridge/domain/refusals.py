"""Refusals: an action that cannot be done, said with what is wrong, why and how to fix it.

A rejected entry is a result, not a refusal; refusals are for actions (an unknown folder,
a setup change that would orphan posted lines, an illegal status change).
"""

from __future__ import annotations


class Refusal(Exception):
    """Base of every refused action; entry points map it once (CLI exit 1, HTTP 4xx)."""

    code = "refused"
    http_status = 409

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        # A fix that lists items reads best starting on its own line.
        separator = "\n" if fix and fix.startswith("  - ") else " "
        super().__init__(message if fix is None else f"{message}\nTo fix:{separator}{fix}")

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "fix": self.fix}


class NotFound(Refusal):
    code = "not_found"
    http_status = 404
