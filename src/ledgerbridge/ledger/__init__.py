"""The production ledger: folders, idempotent posting, posted entries, FEC export."""

from ledgerbridge.ledger.errors import (
    LedgerRefusal,
    NoPostedEntries,
    Orphan,
    OrphanedPostedLines,
    UnknownFiscalYear,
    UnknownFolder,
)
from ledgerbridge.ledger.fec_export import FecExport
from ledgerbridge.ledger.folders import ApplyReport, ItemChanges
from ledgerbridge.ledger.posting import PostingSummary
from ledgerbridge.ledger.queries import PostedAllocation, PostedEntry, PostedLine
from ledgerbridge.ledger.service import Ledger

__all__ = [
    "ApplyReport",
    "FecExport",
    "ItemChanges",
    "Ledger",
    "LedgerRefusal",
    "NoPostedEntries",
    "Orphan",
    "OrphanedPostedLines",
    "PostedAllocation",
    "PostedEntry",
    "PostedLine",
    "PostingSummary",
    "UnknownFiscalYear",
    "UnknownFolder",
]
