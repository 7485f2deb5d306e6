"""The ledger's refusals: each says what was refused, why, and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledgerbridge.domain.plurals import counted, listed
from ledgerbridge.domain.refusals import Refusal


class LedgerRefusal(Refusal):
    """An action the ledger refuses; nothing was changed."""

    code = "ledger_refused"

    def __init__(self, what: str, why: str, fix: str) -> None:
        self.what = what
        self.why = why
        super().__init__(f"{what}: {why}.", fix=fix)


class UnknownFolder(LedgerRefusal):
    code = "unknown_folder"
    http_status = 404

    def __init__(self, folder: str, known: Sequence[str] = ()) -> None:
        self.folder = folder
        having = f"its folders are {listed(known)}" if known else "it has no folder yet"
        super().__init__(
            f"Unknown ledger folder {folder!r}",
            f"the ledger has no such folder ({having})",
            "Check the folder code, or create the folder with"
            " `ledgerbridge ledger apply --setup FILE`.",
        )


class UnknownFiscalYear(LedgerRefusal):
    code = "unknown_fiscal_year"
    http_status = 404

    def __init__(self, folder: str, fiscal_year: str, known: Sequence[str]) -> None:
        self.folder = folder
        self.fiscal_year = fiscal_year
        having = ", ".join(known) if known else "none"
        super().__init__(
            f"Unknown fiscal year {fiscal_year!r} in folder {folder}",
            f"the folder's fiscal years are: {having}",
            "Name one of them, or add the fiscal year to the folder's setup and apply it.",
        )


class NoPostedEntries(LedgerRefusal):
    code = "nothing_posted"

    def __init__(self, folder: str) -> None:
        self.folder = folder
        super().__init__(
            f"No FEC file for folder {folder}",
            "the folder has no posted entry yet, so no fiscal year to export by default",
            "Post entries first (`ledgerbridge ledger post` or by opening the folder's"
            " accounting), or name a fiscal year with --fiscal-year to export an empty file.",
        )


@dataclass(frozen=True, slots=True)
class Orphan:
    """A setup item that posted entries use and that an update would remove or break."""

    kind: str  # "fiscal year", "journal", "account", "third party"
    code: str
    change: str  # what the update does to it: "removed", "dates changed to ...", ...
    entries: int
    lines: int
    fix: str

    def describe(self) -> str:
        entries = counted(self.entries, "entry", "entries")
        lines = counted(self.lines, "line", "lines")
        return (
            f"{self.kind} {self.code} is {self.change}, but posted entries use it"
            f" ({entries}, {lines}): {self.fix}"
        )


class OrphanedPostedLines(LedgerRefusal):
    code = "orphaned_posted_lines"

    def __init__(self, folder: str, orphans: Sequence[Orphan]) -> None:
        self.folder = folder
        self.orphans = tuple(orphans)
        items = "".join(f"  - {orphan.describe()}\n" for orphan in self.orphans)
        super().__init__(
            f"Setup of folder {folder} not applied",
            "it would orphan posted entries, and posted entries are never changed",
            f"{items}Nothing was changed.",
        )
