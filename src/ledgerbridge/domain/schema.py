"""The schema of record, written with pydantic: what a §4.1 or §4.2 document may hold.

The readers take documents at C speed with msgspec (domain/entries.py, domain/setup.py).
What they refuse comes here, to be explained path by path, every problem at once; and what
they leave to the schema (an entry written with empty strings for absent values, from YAML
or a merge patch) is read here. Nothing else imports this module at load time: a command
whose documents read cleanly never loads pydantic.
"""

from __future__ import annotations

import re
import types
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from ledgerbridge.domain.entries import entry_id_problem
from ledgerbridge.domain.malformed import Location, MalformedDocument, Problem, join_path
from ledgerbridge.domain.values import AmountError, checked_amount, format_amount

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Refusal(MalformedDocument):
    """A document the schema refuses.

    `unreadable` locates the values it could not read (wrong, or required and missing);
    `unknown_fields` the fields it does not know, whose leaving out reads the rest.
    """

    def __init__(
        self,
        problems: list[Problem],
        unreadable: frozenset[Location],
        unknown_fields: frozenset[Location],
    ) -> None:
        super().__init__(problems)
        self.unreadable = unreadable
        self.unknown_fields = unknown_fields


def read(
    shape: type[BaseModel], raw: object, prefix: str = "", *, exclude_none: bool = False
) -> dict[str, Any]:
    """`raw` read by `shape`, as plain values (fields by their document names).

    Raises Refusal listing every problem, each path under `prefix`.
    """
    try:
        model = shape.model_validate(raw)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        unknown = frozenset(item["loc"] for item in errors if item["type"] == "extra_forbidden")
        unreadable = frozenset(item["loc"] for item in errors) - unknown
        problems = problems_from_validation(error, prefix, shape)
        raise Refusal(problems, unreadable, unknown) from None
    values: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=exclude_none)
    return values


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
}
_ONE_OF = {"literal_error", "enum"}  # said with the values the field allows
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
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    return f"{type(value).__name__} {value!r}"


def _written(value: object) -> str:
    """A value as a document writes it, for a message saying what was given."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return _describe(value)
    return repr(value) if isinstance(value, str) else str(value)


def _field_type(annotation: Any) -> Any:
    """The type an annotation reads, without its constraints and without `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            kinds = [kind for kind in get_args(annotation) if kind is not type(None)]
            if len(kinds) != 1:
                return annotation
            annotation = kinds[0]
        else:
            return annotation


def allowed_values(shape: type[BaseModel], location: Location) -> tuple[object, ...] | None:
    """The values the Literal or Enum field at `location` of `shape` allows; None for any
    other field."""
    annotation: Any = shape
    for part in location:
        annotation = _field_type(annotation)
        if isinstance(part, int):
            if get_origin(annotation) is not list:
                return None
            annotation = get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        else:
            return None
    annotation = _field_type(annotation)
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(member.value for member in annotation)
    return None


def problems_from_validation(
    error: ValidationError, prefix: str = "", shape: type[BaseModel] | None = None
) -> list[Problem]:
    """Turn pydantic's errors into problems with readable paths and messages.

    `shape` is the model that was validated: an enumerated field's problem names the values
    it allows, in the order the shape declares them.
    """
    problems = []
    for item in error.errors(include_url=False):
        kind = item["type"]
        message = _PLAIN_MESSAGES.get(kind)
        allowed = allowed_values(shape, item["loc"]) if shape and kind in _ONE_OF else None
        if allowed:
            names = ", ".join(str(value) for value in allowed)
            message = f"must be one of: {names} (got {_written(item.get('input'))})"
        elif message is not None:
            message = message.format(**item.get("ctx", {}))
            if kind not in _WITHOUT_VALUE:
                given = item.get("input")
                message = f"{message}, got {_describe(given)}"
                if kind == "string_type" and isinstance(given, int | float | Decimal):
                    # A code written bare in YAML (401000, 2026, even 12:30) reads as a number.
                    message += ": write it in quotes"
        if message is None:
            message = str(item["msg"])
            if message.startswith("Value error, "):
                message = message.removeprefix("Value error, ")
        problems.append(Problem(join_path(prefix, item["loc"]), message))
    return problems


def parse_amount(value: object) -> Decimal | None:
    """An amount from a document's value (text, integer or decimal); absent (None, "") is None.

    Floats are refused: money never passes through binary floating point.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (bool, float)):
        raise PydanticCustomError(
            "amount_type",
            "expected a decimal number written as a string or JSON number, got {got}",
            {"got": repr(value)},
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise PydanticCustomError(
                "amount_parsing", "not a number: {got} (write it like 120.50)", {"got": repr(value)}
            ) from None
    else:
        raise PydanticCustomError(
            "amount_type", "expected a decimal number, got {got}", {"got": type(value).__name__}
        )
    try:
        return checked_amount(amount)
    except AmountError as error:
        raise PydanticCustomError("amount_invalid", str(error)) from None


def parse_date(value: object) -> date | None:
    """An ISO `YYYY-MM-DD` date that exists; absent (None, "") stays None.

    A date and time is refused: a document's dates are days.
    """
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "date_type", "expected a date as YYYY-MM-DD, got {got}", {"got": repr(value)}
        )
    if not _ISO_DATE.match(value):
        raise PydanticCustomError(
            "date_format", "expected a date as YYYY-MM-DD, got {got}", {"got": repr(value)}
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "date_impossible",
            "impossible date {got}: no such day in the calendar",
            {"got": repr(value)},
        ) from None


def parse_required_date(value: object) -> date:
    parsed = parse_date(value)
    if parsed is None:
        raise PydanticCustomError("date_missing", "a date is required (YYYY-MM-DD)")
    return parsed


# Each written back as a document writes it: amounts as decimal strings ("120.00", never a
# JSON float), dates as YYYY-MM-DD.
Amount = Annotated[
    Decimal | None,
    PlainValidator(parse_amount),
    PlainSerializer(
        lambda amount: None if amount is None else format_amount(amount), when_used="json"
    ),
]
OptionalDate = Annotated[
    date | None,
    PlainValidator(parse_date),
    PlainSerializer(lambda day: day.isoformat() if day else None, return_type=str | None),
]
RequiredDate = Annotated[
    date, PlainValidator(parse_required_date), PlainSerializer(date.isoformat, return_type=str)
]
Code = Annotated[str, StringConstraints(min_length=1)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# §4.2: an entries batch.


class AllocationShape(_Shape):
    axis: str | None = None
    section: str | None = None
    amount: Amount = None


class LineShape(_Shape):
    account: str | None = None
    auxiliary: str | None = None
    label: str | None = None
    debit: Amount = None
    credit: Amount = None
    analytics: list[AllocationShape] | None = None


def _entry_id(value: str) -> str:
    problem = entry_id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


EntryId = Annotated[Code, AfterValidator(_entry_id)]


class EntryShape(_Shape):
    id: EntryId
    journal: str | None = None
    date: OptionalDate = None
    reference: str | None = None
    label: str | None = None
    lines: list[LineShape] | None = None


class BatchHeaderShape(_Shape):
    """What an entries batch says besides its entries."""

    folder: str | None = None


# §4.1: a folder setup, and the reference data of a client's initial connection.


class FiscalYearShape(_Shape):
    code: Code
    start: RequiredDate
    end: RequiredDate
    status: Literal["open", "closed"] = "open"


class JournalShape(_Shape):
    code: Code
    kind: Code
    name: str = ""
    status: Literal["open", "locked", "read_only"] = "open"


class AccountShape(_Shape):
    number: Code
    name: str = ""
    collective: StrictBool = False
    locked: StrictBool = False
    analytics: StrictBool = False


class ThirdPartyShape(_Shape):
    code: Code
    name: str = ""
    account: Code


class AnalyticAxisShape(_Shape):
    code: Code
    name: str = ""
    sections: list[Code] = Field(default_factory=list)


class AnalyticsShape(_Shape):
    allow_entries_without_analytics: StrictBool = False
    axes: list[AnalyticAxisShape] = Field(default_factory=list)


class LockedPeriodShape(_Shape):
    start: RequiredDate = Field(alias="from")
    end: RequiredDate = Field(alias="to")


class ImportCursorShape(_Shape):
    locked_periods: list[LockedPeriodShape] = Field(default_factory=list)


class LimitsShape(_Shape):
    label: Annotated[int, Field(gt=0, strict=True)] = 69
    reference: Annotated[int, Field(gt=0, strict=True)] = 13


class FolderSetupShape(_Shape):
    folder: Code
    name: str = ""
    siren: str | None = None
    fiscal_years: list[FiscalYearShape] = Field(default_factory=list)
    journals: list[JournalShape] = Field(default_factory=list)
    accounts: list[AccountShape] = Field(default_factory=list)
    third_parties: list[ThirdPartyShape] = Field(default_factory=list)
    analytics: AnalyticsShape = Field(default_factory=AnalyticsShape)
    import_cursor: ImportCursorShape = Field(default_factory=ImportCursorShape)
    limits: LimitsShape = Field(default_factory=LimitsShape)


class ReferenceDataShape(_Shape):
    """The accounts and third parties sent to the ledger at a client's initial connection."""

    folder: str | None = None
    accounts: list[AccountShape] = Field(default_factory=list)
    third_parties: list[ThirdPartyShape] = Field(default_factory=list)
