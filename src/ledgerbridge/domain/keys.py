"""Idempotency keys of workspace entries: one per client, entry id and revision."""

from __future__ import annotations


def entry_key(client: str, entry_id: str, revision: int) -> str:
    """`ACME/inv-42/2`: what the ledger holds unique, so a revision is posted once."""
    return f"{client}/{entry_id}/{revision}"


def parse_entry_key(key: str) -> tuple[str, str, int]:
    """The inverse of `entry_key`; entry ids may contain slashes, clients may not."""
    client, rest = key.split("/", 1)
    entry_id, revision = rest.rsplit("/", 1)
    return client, entry_id, int(revision)
