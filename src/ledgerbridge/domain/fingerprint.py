"""The fingerprint of an entry's content, kept with its idempotency key by the ledger."""

from __future__ import annotations

import hashlib

import msgspec

from ledgerbridge.domain.entries import Entry, entry_json


def fingerprint(entry: Entry) -> str:
    """A SHA-256 of the entry's content as JSON, its id left out (the key's business).

    Entries hold absent values as None and amounts quantized to cents, so equal contents
    however written (`"120.5"` or `120.50`, `""` or a missing key) give one fingerprint.
    """
    return hashlib.sha256(entry_json(msgspec.structs.replace(entry, id=""))).hexdigest()
