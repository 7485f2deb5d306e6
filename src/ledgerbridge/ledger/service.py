"""The ledger as others use it: folders, posting, posted entries and the FEC export."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock, system_clock
from ledgerbridge.domain.entries import Entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.setup import FolderSetup
from ledgerbridge.ledger import fec_export, folders, forked_posting, posting, queries
from ledgerbridge.ledger.fec_export import FecExport
from ledgerbridge.ledger.folders import ApplyReport
from ledgerbridge.ledger.forked_posting import EntryChunks, EntryDocuments, each_entry
from ledgerbridge.ledger.posting import PostingSummary
from ledgerbridge.ledger.queries import PostedEntry, PostedWidths
from ledgerbridge.processes import cores


def _by_id(entry: Entry) -> str:
    return entry.id


def _nothing() -> None:
    return None


class Ledger:
    """The production ledger of every folder, in one database.

    Each method is one transaction. Refusals are `LedgerRefusal`s (ledger.errors);
    business rejections of entries are results, never exceptions.
    """

    def __init__(self, database: Database, *, clock: Clock = system_clock) -> None:
        self._database = database
        self._clock = clock

    def apply_setup(self, setup: FolderSetup) -> ApplyReport:
        """Create or update a folder; raises OrphanedPostedLines, changing nothing, if the
        update removes or moves something posted entries use."""
        with self._database.transaction() as connection:
            return folders.apply_setup(connection, setup, self._clock())

    def folder_setup(self, folder: str) -> FolderSetup:
        """The setup as last applied; raises UnknownFolder."""
        with self._database.transaction(write=False) as connection:
            return folders.find_folder(connection, folder).setup

    def folders(self) -> list[str]:
        with self._database.transaction(write=False) as connection:
            return folders.folder_codes(connection)

    def has_folder(self, folder: str) -> bool:
        """Whether the ledger has a folder by that code: one row looked up, however many
        folders it has."""
        with self._database.transaction(write=False) as connection:
            return folders.folder_exists(connection, folder)

    def post_batch(
        self,
        folder: str,
        entries: Iterable[Entry] | EntryChunks,
        *,
        key: Callable[[Entry], str] = _by_id,
        on_result: Callable[[CheckResult], None],
        before_commit: Callable[[], None] = _nothing,
        chunk_size: int = 2000,
        forked: bool = False,
    ) -> PostingSummary:
        """Check and post a batch in one transaction, the folder locked meanwhile.

        `entries` is read lazily, `chunk_size` at a time. Each entry's result goes to
        `on_result` in input order: posted (with its number), a replay of a key already
        posted with the same content (the first number again), or rejected (the check's
        findings, or `idempotency_conflict` for a key posted with other content).
        `before_commit` runs after the last entry; if it raises, nothing is stored and
        the error propagates. Results already given are then void: until this method
        returns, they are provisional.

        `forked`: a machine of several cores. Forked processes then read and check the
        entries while this one numbers and stores them (see ledger.forked_posting): one per
        core for `EntryChunks`, one for a stream of entries, which is iterated, and
        `before_commit` run, in that process; for `EntryDocuments`, the process this one
        keeps for them (`key` is theirs then). `EntryChunks` posted in one process are read
        chunk after chunk.
        """
        with self._database.transaction() as connection:
            if forked and isinstance(entries, EntryDocuments):
                summary = forked_posting.post_documents_aside(
                    connection,
                    folder,
                    entries,
                    on_result=on_result,
                    chunk_size=chunk_size,
                    posted_at=self._clock(),
                )
                before_commit()
            elif forked and self._database.shared_by_processes:
                summary = forked_posting.post_batch_forked(
                    connection,
                    folder,
                    entries,
                    key=key,
                    on_result=on_result,
                    chunk_size=chunk_size,
                    posted_at=self._clock(),
                    processes=cores(),
                    in_forked_process=self._in_forked_process,
                    after_reading=before_commit,
                )
            else:
                if isinstance(entries, EntryChunks):
                    entries = each_entry(entries)
                summary = posting.post_batch(
                    connection,
                    folder,
                    entries,
                    key=key,
                    on_result=on_result,
                    chunk_size=chunk_size,
                    posted_at=self._clock(),
                )
                before_commit()
        return summary

    @contextmanager
    def _in_forked_process(self) -> Iterator[None]:
        """In a forked process: the connections inherited left to this one, and those the
        process opens (reading a stream from the database) closed when done, so that it
        leaves the database as a client should before it exits."""
        self._database.forget_inherited_connections()
        try:
            yield
        finally:
            self._database.dispose()

    def posted_entries(self, folder: str, fiscal_year: str | None = None) -> Iterator[PostedEntry]:
        """Posted entries, by fiscal year (in date order) then number; read as iterated.

        Raises UnknownFolder or UnknownFiscalYear at the call, before any iteration.
        """
        with self._database.transaction(write=False) as connection:
            found = folders.find_folder(connection, folder)
            years = queries.fiscal_years_in_order(found.setup, fiscal_year)
        return self._read_posted_entries(found.id, years)

    def posted_widths(self, folder: str, fiscal_year: str | None = None) -> PostedWidths:
        """The longest id, fiscal year, number and journal of the entries `posted_entries`
        lists with the same arguments (raising as it does)."""
        with self._database.transaction(write=False) as connection:
            found = folders.find_folder(connection, folder)
            years = queries.fiscal_years_in_order(found.setup, fiscal_year)
            return queries.posted_widths(connection, found.id, years)

    def _read_posted_entries(self, folder_id: int, years: list[str]) -> Iterator[PostedEntry]:
        with self._database.transaction(write=False) as connection:
            yield from queries.read_posted_entries(connection, folder_id, years)

    def fec_file_name(self, folder: str, fiscal_year: str | None = None) -> str:
        """The name export_fec will give the file, to open it before exporting."""
        with self._database.transaction(write=False) as connection:
            found = folders.find_folder(connection, folder)
            year = fec_export.fiscal_year_to_export(connection, found, fiscal_year)
            return fec_export.export_file_name(found, year)

    def export_fec(self, folder: str, out: TextIO, fiscal_year: str | None = None) -> FecExport:
        """Write the FEC of a fiscal year (default: the latest holding posted entries) to `out`.

        Raises UnknownFolder, UnknownFiscalYear, or NoPostedEntries when no fiscal year is
        named and nothing is posted yet.
        """
        with self._database.transaction(write=False) as connection:
            found = folders.find_folder(connection, folder)
            return fec_export.export_fec(connection, found, out, fiscal_year)
