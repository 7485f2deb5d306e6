"""The fingerprint of an entry's content, kept with its idempotency key by the ledger."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import msgspec

from ledgerbridge.domain.entries import Entry, Line

_ENCODER = msgspec.json.Encoder()


def _cents(amount: Decimal | None) -> int:
    """Integer cents of an amount already limited to 2 decimals; absent is 0."""
    return int(amount * 100) if amount else 0


def _line(line: Line) -> tuple[object, ...]:
    return (
        line.account or None,
        line.auxiliary or None,
        line.label or None,
        _cents(line.debit),
        _cents(line.credit),
        [
            (allocation.axis or None, allocation.section or None, _cents(allocation.amount))
            for allocation in line.analytics
        ]
        if line.analytics
        else (),
    )


def canonical_content(entry: Entry) -> tuple[object, ...]:
    """The entry's content with absent values made alike, so equal entries compare equal.

    Written as a JSON array: journal, date, reference, label, then per line account,
    auxiliary, label, debit and credit in cents, and its allocations (axis, section, cents).
    """
    return (
        entry.journal or None,
        entry.date.isoformat() if entry.date else None,
        entry.reference or None,
        entry.label or None,
        [_line(line) for line in entry.lines] if entry.lines else (),
    )


def fingerprint(entry: Entry) -> str:
    """A SHA-256 of the canonical content; the entry's id is the key's business, not this."""
    return hashlib.sha256(_ENCODER.encode(canonical_content(entry))).hexdigest()
