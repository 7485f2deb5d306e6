"""Amounts and dates as documents write them: decimals with at most 2 places, ISO dates."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")
_MAX_INTEGER_DIGITS = 15  # fits integer cents in a signed 64-bit column
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
_PLAIN_AMOUNT = re.compile(r"\d{1,15}(?:\.\d{1,2})?")  # the common case, taken without more ado


def parse_amount(value: object) -> Decimal | None:
    """A non-negative decimal with at most 2 places; absent (None, "") stays None.

    Floats are refused: money never passes through binary floating point.
    """
    if value is None or value == "":
        return None
    if type(value) is str and _PLAIN_AMOUNT.fullmatch(value):
        return Decimal(value)
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
        if not _DECIMAL_TEXT.fullmatch(value):
            raise PydanticCustomError(
                "amount_parsing", "not a number: {got} (write it like 120.50)", {"got": repr(value)}
            )
        amount = Decimal(value)
    else:
        raise PydanticCustomError(
            "amount_type", "expected a decimal number, got {got}", {"got": type(value).__name__}
        )
    if not amount.is_finite():
        raise PydanticCustomError("amount_parsing", "not a number: {got}", {"got": str(value)})
    if amount < 0:
        raise PydanticCustomError(
            "amount_negative",
            "negative amount {got}: amounts are positive, put it on the other side (debit or credit)",
            {"got": str(value)},
        )
    places = _decimal_places(amount)
    if places > 2:
        raise PydanticCustomError(
            "amount_decimals", "{places} decimals, at most 2 allowed", {"places": places}
        )
    if amount.adjusted() >= _MAX_INTEGER_DIGITS:
        raise PydanticCustomError(
            "amount_too_large",
            "amount {got} is too large (at most {digits} digits before the point)",
            {"got": str(value), "digits": _MAX_INTEGER_DIGITS},
        )
    return amount.quantize(CENT)


def _decimal_places(amount: Decimal) -> int:
    """Decimals once trailing zeros are dropped (`1.500` has 1), counted exactly: no rounding."""
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an integer exponent
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def parse_date(value: object) -> date | None:
    """An ISO `YYYY-MM-DD` date that exists; absent (None, "") stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
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


Amount = Annotated[
    Decimal | None,
    PlainValidator(parse_amount),
    # Written back as a decimal string ("120.00"), never as a JSON float.
    PlainSerializer(
        lambda amount: None if amount is None else format_amount(amount), when_used="json"
    ),
    WithJsonSchema({"type": ["string", "number", "null"], "pattern": r"^\d+(\.\d{1,2})?$"}),
]
OptionalDate = Annotated[
    date | None,
    PlainValidator(parse_date),
    PlainSerializer(lambda day: day.isoformat() if day else None, return_type=str | None),
    WithJsonSchema({"type": ["string", "null"], "format": "date"}),
]
RequiredDate = Annotated[
    date,
    PlainValidator(parse_required_date),
    PlainSerializer(date.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def to_cents(amount: Decimal | None) -> int:
    """Integer cents of an amount already limited to 2 decimals; absent is 0."""
    if not amount:
        return 0
    return int(amount * 100)


def format_amount(amount: Decimal | int | None) -> str:
    """`Decimal('120')` -> `120.00`; integer values are cents."""
    if amount is None:
        return "0.00"
    if isinstance(amount, int):
        sign = "-" if amount < 0 else ""
        cents = abs(amount)
        return f"{sign}{cents // 100}.{cents % 100:02d}"
    return f"{amount.quantize(CENT)}"
