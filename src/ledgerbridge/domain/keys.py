"""Idempotency keys of workspace entries: one per client, entry id and revision."""

from __future__ import annotations


def entry_key(client: str, entry_id: str, revision: int) -> str:
    """`ACME/inv-42/2`: what the ledger holds unique, so a revision is posted once."""
    return f"{client}/{entry_id}/{revision}"


def parse_entry_key(key: str, client: str) -> tuple[str, int]:
    """The entry id and revision of a key of `client`; ids and client codes may hold slashes."""
    prefix = f"{client}/"
    if not key.startswith(prefix):
        raise ValueError(f"key {key!r} is not one of client {client!r}")
    entry_id, revision = key.removeprefix(prefix).rsplit("/", 1)
    return entry_id, int(revision)
