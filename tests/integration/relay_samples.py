"""Batches for the relay's integration tests, and ledgers that fail on purpose."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from ledgerbridge.domain.entries import Entry, entry_document
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.keys import entry_key
from ledgerbridge.domain.setup import FolderSetup
from ledgerbridge.ledger import Ledger
from ledgerbridge.relay import OutgoingBatch, OutgoingEntry
from tests.integration.ledger_samples import purchase

# The relay's clock in these tests; the ledger's (POSTED_AT) is later the same day.
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
NEXT_YEAR = date(2027, 3, 20)
LAST_YEAR = date(2025, 3, 20)


def document(entry: Entry) -> dict[str, Any]:
    """The entry as JSON-ready values, as the workspace keeps it."""
    return entry_document(entry)


def content(document: dict[str, Any]) -> str:
    """A §4.2 entry document as the JSON text that travels to the relay."""
    return json.dumps(document, ensure_ascii=False)


def entries_batch(batch_id: str, *entries: Entry, folder: str = "ACME") -> OutgoingBatch:
    """A batch whose entries are all at their first revision."""
    return OutgoingBatch(
        batch_id=batch_id,
        folder=folder,
        entries=tuple(
            OutgoingEntry(key=entry_key(folder, entry.id, 1), content=content(document(entry)))
            for entry in entries
        ),
    )


def batch_with_a_malformed_entry(batch_id: str = "b-1") -> OutgoingBatch:
    """A good entry, then one whose first line says `debt` for `debit` (entries[1])."""
    bad = document(purchase("bad"))
    bad["lines"][0]["debt"] = bad["lines"][0].pop("debit")
    return OutgoingBatch(
        batch_id=batch_id,
        folder="ACME",
        entries=(
            OutgoingEntry("ACME/good/1", content(document(purchase("good")))),
            OutgoingEntry("ACME/bad/1", content(bad)),
        ),
    )


class SimulatedCrash(Exception):
    """The process dies here."""


class LedgerStandIn:
    """The real ledger, as injection sees it; a test changes what happens when it posts."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def folders(self) -> list[str]:
        return self.ledger.folders()

    def has_folder(self, folder: str) -> bool:
        return self.ledger.has_folder(folder)

    def folder_setup(self, folder: str) -> FolderSetup:
        return self.ledger.folder_setup(folder)

    def apply_setup(self, setup: FolderSetup) -> object:
        return self.ledger.apply_setup(setup)

    def post_batch(
        self,
        folder: str,
        entries: Iterable[Entry],
        *,
        key: Callable[[Entry], str],
        on_result: Callable[[CheckResult], None],
        forked: bool = False,
    ) -> object:
        self.before_posting()
        posted = self.ledger.post_batch(
            folder, entries, key=key, on_result=on_result, forked=forked
        )
        self.after_posting()
        return posted

    def before_posting(self) -> None:
        """What happens just as a batch starts to post (nothing, unless a test says)."""

    def after_posting(self) -> None:
        """What happens once a batch is posted, before the relay hears of it."""


class CrashAfterPosting(LedgerStandIn):
    """The real ledger, but the process dies once a batch is posted and before the relay
    has stored anything of it."""

    def after_posting(self) -> None:
        raise SimulatedCrash
