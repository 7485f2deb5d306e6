"""Amounts as documents write them: non-negative decimals with at most 2 places."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ledgerbridge.domain.plurals import counted

CENT = Decimal("0.01")
ZERO_CENTS = Decimal("0.00")
MAX_INTEGER_DIGITS = 15  # fits integer cents in a signed 64-bit column


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
        and amount.adjusted() < MAX_INTEGER_DIGITS
    ):
        return amount  # the common case, decided without a new Decimal
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # infinite, or more digits than any amount has
        pass
    else:
        if cents == amount and cents > 0 and cents.adjusted() < MAX_INTEGER_DIGITS:
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
    if amount.adjusted() >= MAX_INTEGER_DIGITS:
        raise AmountError(
            f"amount {amount} is too large (at most {MAX_INTEGER_DIGITS} digits before the point)"
        )
    cents = amount.quantize(CENT)
    if cents != amount:
        decimals = counted(_decimal_places(amount), "decimal", "decimals")
        raise AmountError(f"{decimals}, at most 2 allowed")
    return cents


def _decimal_places(amount: Decimal) -> int:
    """Decimals once trailing zeros are dropped (`1.500` has 1), counted exactly: no rounding."""
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an integer exponent
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def format_amount(amount: Decimal | int | None) -> str:
    """`Decimal('120')` -> `120.00`; integer values are cents."""
    if amount is None:
        return "0.00"
    if isinstance(amount, int):
        sign = "-" if amount < 0 else ""
        cents = abs(amount)
        return f"{sign}{cents // 100}.{cents % 100:02d}"
    return f"{amount.quantize(CENT)}"
