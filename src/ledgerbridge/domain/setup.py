"""A folder setup (§4.1): the ledger's configuration of one folder, validated whole."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from ledgerbridge.domain.malformed import MalformedDocument, Problem, problems_from_validation
from ledgerbridge.domain.values import RequiredDate

Code = Annotated[str, StringConstraints(min_length=1)]
_SIREN = re.compile(r"^\d{9}$")


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FiscalYear(_Value):
    code: Code
    start: RequiredDate
    end: RequiredDate
    status: Literal["open", "closed"] = "open"

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Journal(_Value):
    code: Code
    kind: Code
    name: str = ""
    status: Literal["open", "locked", "read_only"] = "open"


class Account(_Value):
    number: Code
    name: str = ""
    collective: StrictBool = False
    locked: StrictBool = False
    analytics: StrictBool = False


class ThirdParty(_Value):
    """A third party, known to the ledger as an auxiliary account under one account."""

    code: Code
    name: str = ""
    account: Code


class AnalyticAxis(_Value):
    code: Code
    name: str = ""
    sections: list[Code] = Field(default_factory=list)


class Analytics(_Value):
    allow_entries_without_analytics: StrictBool = False
    axes: list[AnalyticAxis] = Field(default_factory=list)


class LockedPeriod(_Value):
    start: RequiredDate = Field(alias="from")
    end: RequiredDate = Field(alias="to")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class ImportCursor(_Value):
    locked_periods: list[LockedPeriod] = Field(default_factory=list)


class Limits(_Value):
    label: Annotated[int, Field(gt=0, strict=True)] = 69
    reference: Annotated[int, Field(gt=0, strict=True)] = 13


class FolderSetup(_Value):
    folder: Code
    name: str = ""
    siren: str | None = None
    fiscal_years: list[FiscalYear] = Field(default_factory=list)
    journals: list[Journal] = Field(default_factory=list)
    accounts: list[Account] = Field(default_factory=list)
    third_parties: list[ThirdParty] = Field(default_factory=list)
    analytics: Analytics = Field(default_factory=Analytics)
    import_cursor: ImportCursor = Field(default_factory=ImportCursor)
    limits: Limits = Field(default_factory=Limits)

    def to_document(self) -> dict[str, object]:
        """The setup as a §4.1 document (JSON-ready)."""
        return self.model_dump(mode="json", by_alias=True)


def _duplicates(items: Sequence[object], key: str, where: str) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        value = getattr(item, key)
        first = seen.setdefault(value, index)
        if first != index:
            problems.append(
                Problem(
                    f"{where}[{index}].{key}", f"duplicate {key} {value!r} (also {where}[{first}])"
                )
            )
    return problems


def consistency_problems(
    setup: FolderSetup, ill_typed: frozenset[str] = frozenset()
) -> list[Problem]:
    """What a well-typed setup can still get wrong: duplicates, reversed or overlapping dates.

    `ill_typed` names the sections that failed validation (left at their defaults here), so
    that checks needing them are skipped rather than reported wrongly.
    """
    problems: list[Problem] = []
    if setup.siren is not None and not _SIREN.match(setup.siren):
        problems.append(Problem("siren", f"a SIREN is 9 digits, got {setup.siren!r}"))
    problems += _duplicates(setup.fiscal_years, "code", "fiscal_years")
    problems += _duplicates(setup.journals, "code", "journals")
    problems += _duplicates(setup.accounts, "number", "accounts")
    problems += _duplicates(setup.third_parties, "code", "third_parties")
    problems += _duplicates(setup.analytics.axes, "code", "analytics.axes")
    for index, year in enumerate(setup.fiscal_years):
        if year.start > year.end:
            problems.append(
                Problem(
                    f"fiscal_years[{index}].end",
                    f"ends on {year.end}, before it starts on {year.start}",
                )
            )
    ordered = sorted(enumerate(setup.fiscal_years), key=lambda pair: pair[1].start)
    for (_, before), (index, after) in itertools.pairwise(ordered):
        if after.start <= before.end:
            problems.append(
                Problem(
                    f"fiscal_years[{index}].start",
                    f"fiscal year {after.code} starts on {after.start}, inside fiscal year"
                    f" {before.code} ({before.start} to {before.end}); fiscal years cannot overlap",
                )
            )
    accounts = {account.number for account in setup.accounts}
    for index, party in enumerate(setup.third_parties):
        if "accounts" not in ill_typed and party.account not in accounts:
            problems.append(
                Problem(
                    f"third_parties[{index}].account",
                    f"account {party.account!r} is not in the folder's accounts",
                )
            )
    for index, axis in enumerate(setup.analytics.axes):
        seen: set[str] = set()
        for position, section in enumerate(axis.sections):
            if section in seen:
                problems.append(
                    Problem(
                        f"analytics.axes[{index}].sections[{position}]",
                        f"duplicate section {section!r}",
                    )
                )
            seen.add(section)
    for index, period in enumerate(setup.import_cursor.locked_periods):
        if period.start > period.end:
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
        setup = FolderSetup.model_validate(raw)
    except ValidationError as error:
        problems = problems_from_validation(error)
        problems += _problems_of_the_well_typed_sections(raw, error)
        raise MalformedDocument(problems, source=source) from None
    problems = consistency_problems(setup)
    if problems:
        raise MalformedDocument(problems, source=source)
    return setup


def _problems_of_the_well_typed_sections(raw: object, error: ValidationError) -> list[Problem]:
    """Consistency problems of the sections that did validate, so one round lists them all."""
    if not isinstance(raw, dict):
        return []
    ill_typed = frozenset(str(item["loc"][0]) for item in error.errors() if item["loc"])
    fields = FolderSetup.model_fields
    aliases = {field.alias or name for name, field in fields.items()}
    well_typed = {
        key: value for key, value in raw.items() if key in aliases and key not in ill_typed
    }
    well_typed.setdefault("folder", "?")
    if "folder" in ill_typed:
        well_typed["folder"] = "?"
    try:
        partial = FolderSetup.model_validate(well_typed)
    except ValidationError:
        return []
    return consistency_problems(partial, ill_typed)
