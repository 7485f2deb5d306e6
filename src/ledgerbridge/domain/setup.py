"""A folder setup (§4.1): the ledger's configuration of one folder, validated whole.

A setup is read at C speed by msgspec; a document it refuses goes to the schema of record
(domain/schema.py), which lists every problem by its path.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Sequence
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from ledgerbridge.domain.entries import entry_id_problem
from ledgerbridge.domain.malformed import Location, MalformedDocument, Problem, join_path
from ledgerbridge.domain.readable import what_could_be_read

Code = Annotated[str, msgspec.Meta(min_length=1)]
_SIREN = re.compile(r"^\d{9}$")


class _Value(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An immutable part of a setup, with the fields and defaults §4.1 gives it."""


class FiscalYear(_Value, frozen=True, kw_only=True):
    code: Code
    start: date
    end: date
    status: Literal["open", "closed"] = "open"

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Journal(_Value, frozen=True, kw_only=True):
    code: Code
    kind: Code
    name: str = ""
    status: Literal["open", "locked", "read_only"] = "open"


class Account(_Value, frozen=True, kw_only=True):
    number: Code
    name: str = ""
    collective: bool = False
    locked: bool = False
    analytics: bool = False


class ThirdParty(_Value, frozen=True, kw_only=True):
    """A third party, known to the ledger as an auxiliary account under one account."""

    code: Code
    name: str = ""
    account: Code


class AnalyticAxis(_Value, frozen=True, kw_only=True):
    code: Code
    name: str = ""
    sections: list[Code] = msgspec.field(default_factory=list)


class Analytics(_Value, frozen=True, kw_only=True):
    allow_entries_without_analytics: bool = False
    axes: list[AnalyticAxis] = msgspec.field(default_factory=list)


class LockedPeriod(_Value, frozen=True, kw_only=True, rename={"start": "from", "end": "to"}):
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class ImportCursor(_Value, frozen=True, kw_only=True):
    locked_periods: list[LockedPeriod] = msgspec.field(default_factory=list)


class Limits(_Value, frozen=True, kw_only=True):
    label: Annotated[int, msgspec.Meta(gt=0)] = 69
    reference: Annotated[int, msgspec.Meta(gt=0)] = 13


class FolderSetup(_Value, frozen=True, kw_only=True):
    folder: Code
    name: str = ""
    siren: str | None = None
    fiscal_years: list[FiscalYear] = msgspec.field(default_factory=list)
    journals: list[Journal] = msgspec.field(default_factory=list)
    accounts: list[Account] = msgspec.field(default_factory=list)
    third_parties: list[ThirdParty] = msgspec.field(default_factory=list)
    analytics: Analytics = msgspec.field(default_factory=Analytics)
    import_cursor: ImportCursor = msgspec.field(default_factory=ImportCursor)
    limits: Limits = msgspec.field(default_factory=Limits)

    def to_document(self) -> dict[str, Any]:
        """The setup as a §4.1 document (JSON-ready)."""
        document: dict[str, Any] = msgspec.to_builtins(self)
        return document


class ReferenceData(_Value, frozen=True, kw_only=True):
    """The accounts and third parties sent to the ledger at a client's initial connection."""

    folder: str | None = None
    accounts: list[Account] = msgspec.field(default_factory=list)
    third_parties: list[ThirdParty] = msgspec.field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.accounts) + len(self.third_parties)


def setup_from_json(text: str | bytes) -> FolderSetup:
    """A setup as `to_document` wrote it to JSON, read back (it was validated before)."""
    return msgspec.json.decode(text, type=FolderSetup)


ValueT = TypeVar("ValueT", bound=_Value)


def read_value(kind: type[ValueT], raw: object, prefix: str = "") -> ValueT:
    """`raw` (plain values) as a setup or one of its parts, by its §4.1 shape.

    Raises MalformedDocument naming every wrong path under `prefix`; consistency across
    the parts (duplicates, dates) is `parse_setup`'s.
    """
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError:
        pass
    from ledgerbridge.domain import schema  # pydantic, loaded only to explain a refusal

    shape = getattr(schema, f"{kind.__name__}Shape")
    return msgspec.convert(schema.read(shape, raw, prefix), kind)


def _was_read(unreadable: Collection[Location], *location: int | str) -> bool:
    """Whether the value at `location` was read from the document, and what holds it too."""
    return not unreadable or not any(
        location[:end] in unreadable for end in range(1, len(location) + 1)
    )


def _duplicates(
    items: Sequence[object], key: str, where: Location, unreadable: Collection[Location]
) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not _was_read(unreadable, *where, index, key):
            continue
        value = getattr(item, key)
        first = seen.setdefault(value, index)
        if first != index:
            problems.append(
                Problem(
                    join_path("", (*where, index, key)),
                    f"duplicate {key} {value!r} (also {join_path('', (*where, first))})",
                )
            )
    return problems


def consistency_problems(
    setup: FolderSetup, unreadable: Collection[Location] = frozenset()
) -> list[Problem]:
    """What a well-typed setup can still get wrong: duplicates, reversed or overlapping dates.

    `unreadable` locates the values the document's reading refused (the setup holds a
    default or a stand-in there), so that no check that needs one of them is made: each
    was reported already, and what follows from it would be wrong.
    """
    problems: list[Problem] = []
    folder_problem = entry_id_problem(setup.folder)  # a folder names it as an id names an entry
    if folder_problem is not None and _was_read(unreadable, "folder"):
        problems.append(Problem("folder", folder_problem))
    if setup.siren is not None and not _SIREN.match(setup.siren):
        problems.append(Problem("siren", f"a SIREN is 9 digits, got {setup.siren!r}"))
    problems += _duplicates(setup.fiscal_years, "code", ("fiscal_years",), unreadable)
    problems += _duplicates(setup.journals, "code", ("journals",), unreadable)
    problems += _duplicates(setup.accounts, "number", ("accounts",), unreadable)
    problems += _duplicates(setup.third_parties, "code", ("third_parties",), unreadable)
    problems += _duplicates(setup.analytics.axes, "code", ("analytics", "axes"), unreadable)
    dated = [
        (index, year)
        for index, year in enumerate(setup.fiscal_years)
        if _was_read(unreadable, "fiscal_years", index, "start")
        and _was_read(unreadable, "fiscal_years", index, "end")
    ]
    for index, year in dated:
        if year.start > year.end:
            problems.append(
                Problem(
                    f"fiscal_years[{index}].end",
                    f"ends on {year.end}, before it starts on {year.start}",
                )
            )

    def named(index: int, year: FiscalYear) -> str:
        if _was_read(unreadable, "fiscal_years", index, "code"):
            return f"fiscal year {year.code}"
        return f"fiscal year fiscal_years[{index}]"

    ordered = sorted(dated, key=lambda pair: pair[1].start)
    for (first, before), (index, after) in itertools.pairwise(ordered):
        if after.start <= before.end:
            problems.append(
                Problem(
                    f"fiscal_years[{index}].start",
                    f"{named(index, after)} starts on {after.start}, inside"
                    f" {named(first, before)} ({before.start} to {before.end});"
                    " fiscal years cannot overlap",
                )
            )
    accounts = {account.number for account in setup.accounts}
    # An account whose number could not be read may be the one a third party names.
    numbers_read = not any(
        location[:1] == ("accounts",) and location[2:3] in {(), ("number",)}
        for location in unreadable
    )
    for index, party in enumerate(setup.third_parties):
        if (
            party.account not in accounts
            and numbers_read
            and _was_read(unreadable, "third_parties", index, "account")
        ):
            problems.append(
                Problem(
                    f"third_parties[{index}].account",
                    f"account {party.account!r} is not in the folder's accounts",
                )
            )
    for index, axis in enumerate(setup.analytics.axes):
        seen: set[str] = set()
        for position, section in enumerate(axis.sections):
            if not _was_read(unreadable, "analytics", "axes", index, "sections", position):
                continue
            if section in seen:
                problems.append(
                    Problem(
                        f"analytics.axes[{index}].sections[{position}]",
                        f"duplicate section {section!r}",
                    )
                )
            seen.add(section)
    for index, period in enumerate(setup.import_cursor.locked_periods):
        if (
            period.start > period.end
            and _was_read(unreadable, "import_cursor", "locked_periods", index, "from")
            and _was_read(unreadable, "import_cursor", "locked_periods", index, "to")
        ):
            problems.append(
                Problem(
                    f"import_cursor.locked_periods[{index}].to",
                    f"ends on {period.end}, before it starts on {period.start}",
                )
            )
    return problems


def parse_setup(raw: object, *, source: str = "setup document") -> FolderSetup:
    """A §4.1 document as a FolderSetup; raises MalformedDocument listing every problem."""
    try:
        setup = read_value(FolderSetup, raw)
    except MalformedDocument as malformed:
        problems = list(malformed.problems)
        problems += _problems_of_what_could_be_read(raw, malformed)
        raise MalformedDocument(problems, source=source) from None
    problems = consistency_problems(setup)
    if problems:
        raise MalformedDocument(problems, source=source)
    return setup


def _problems_of_what_could_be_read(raw: object, refused: MalformedDocument) -> list[Problem]:
    """Consistency problems among the values the schema could read, so one round lists them all.

    The document is read again with each value the schema refused put back to its default,
    or to a stand-in of its type when it has none, and its unknown fields left out
    (`what_could_be_read`); the checks then pass over what was put back.
    """
    from ledgerbridge.domain.schema import Refusal

    if not isinstance(raw, dict) or not isinstance(refused, Refusal):
        return []
    readable = what_could_be_read(FolderSetup, raw, refused.unreadable, refused.unknown_fields)
    try:
        partial = read_value(FolderSetup, readable)
    except MalformedDocument:
        return []
    return consistency_problems(partial, refused.unreadable)
