"""Amounts and dates as documents write them: decimals with at most 2 places, ISO dates."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")
ZERO_CENTS = Decimal("0.00")
_MAX_INTEGER_DIGITS = 15  # fits integer cents in a signed 64-bit column
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AmountError(ValueError):
    """An amount that is not a non-negative decimal with at most 2 places; says why."""


def checked_amount(amount: Decimal) -> Decimal:
    """The amount quantized to cents, or AmountError: the one rule every reader applies.

    Non-negative, finite, at most 2 decimals once trailing zeros are dropped (counted
    exactly, no rounding), at most 15 digits before the point. Zero is `0.00`.
    """
    if (
        amount.same_quantum(CENT)  # written with exactly 2 places: already in cents
        and not amount.is_signed()
        and amount
        and amount.adjusted() < _MAX_INTEGER_DIGITS
    ):
        return amount  # the common case, decided without a new Decimal
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # infinite, or more digits than any amount has
        pass
    else:
        if cents == amount and cents > 0 and cents.adjusted() < _MAX_INTEGER_DIGITS:
            return cents  # written otherwise (`120.5`, `7`), decided in one step
    if not amount.is_finite():
        raise AmountError(f"not a number: {amount}")
    if amount < 0:
        raise AmountError(
            f"negative amount {amount}: amounts are positive, put it on the other side"
            " (debit or credit)"
        )
    if not amount:
        return ZERO_CENTS
    if amount.adjusted() >= _MAX_INTEGER_DIGITS:
        raise AmountError(
            f"amount {amount} is too large (at most {_MAX_INTEGER_DIGITS} digits before the point)"
        )
    cents = amount.quantize(CENT)
    if cents != amount:
        raise AmountError(f"{_decimal_places(amount)} decimals, at most 2 allowed")
    return cents


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


def format_amount(amount: Decimal | int | None) -> str:
    """`Decimal('120')` -> `120.00`; integer values are cents."""
    if amount is None:
        return "0.00"
    if isinstance(amount, int):
        sign = "-" if amount < 0 else ""
        cents = abs(amount)
        return f"{sign}{cents // 100}.{cents % 100:02d}"
    return f"{amount.quantize(CENT)}"
