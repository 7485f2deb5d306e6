"""The fingerprint of an entry's content, kept with its idempotency key by the ledger."""

from __future__ import annotations

import hashlib
import json

from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.values import to_cents


def canonical_content(entry: Entry) -> list[object]:
    """The entry's content with absent values made alike, so equal entries compare equal."""
    return [
        entry.journal or None,
        entry.date.isoformat() if entry.date else None,
        entry.reference or None,
        entry.label or None,
        [
            [
                line.account or None,
                line.auxiliary or None,
                line.label or None,
                to_cents(line.debit),
                to_cents(line.credit),
                [
                    [
                        allocation.axis or None,
                        allocation.section or None,
                        to_cents(allocation.amount),
                    ]
                    for allocation in line.analytics or ()
                ],
            ]
            for line in entry.lines or ()
        ],
    ]


def fingerprint(entry: Entry) -> str:
    """A SHA-256 of the canonical content; the entry's id is the key's business, not this."""
    text = json.dumps(canonical_content(entry), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
