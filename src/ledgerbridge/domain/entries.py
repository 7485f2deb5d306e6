"""Entries, their lines and analytic allocations, as the §4.2 entries batch writes them.

Only the shape is enforced here (types, dates, amounts, unknown fields). Missing business
content (no journal, no account, unbalanced totals...) is left to the check, which rejects
that entry alone; an absent value is None, "" , an empty list or a zero amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from ledgerbridge.domain.malformed import MalformedDocument, Problem, problems_from_validation
from ledgerbridge.domain.values import Amount, OptionalDate

EntryId = Annotated[str, StringConstraints(min_length=1)]


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Allocation(_Value):
    """A share of a line's amount on one section of one analytic axis."""

    axis: str | None = None
    section: str | None = None
    amount: Amount = None


class Line(_Value):
    account: str | None = None
    auxiliary: str | None = None
    label: str | None = None
    debit: Amount = None
    credit: Amount = None
    analytics: list[Allocation] | None = None


class Entry(_Value):
    id: EntryId
    journal: str | None = None
    date: OptionalDate = None
    reference: str | None = None
    label: str | None = None
    lines: list[Line] | None = None


class BatchHeader(_Value):
    """What an entries batch says besides its entries."""

    folder: str | None = None


BATCH_FIELDS = frozenset({"folder", "entries"})


def parse_entry(raw: object, index: int) -> Entry:
    """One entry of a batch, at position `index`; raises MalformedDocument naming its paths."""
    try:
        return Entry.model_validate(raw)
    except ValidationError as error:
        raise MalformedDocument(problems_from_validation(error, f"entries[{index}]")) from None


class BatchReader:
    """Validates an entries batch piece by piece, so a large one can be streamed.

    Feed the top-level keys and each raw entry; collect every problem, then `finish()`
    raises MalformedDocument if anything was wrong. Duplicate ids are caught here.
    """

    def __init__(
        self, expected_folder: str | None = None, *, folder_required: bool = False
    ) -> None:
        self.expected_folder = expected_folder
        self.folder_required = folder_required  # `ledger check`: the batch must name the setup's
        self.problems: list[Problem] = []
        self.folder: str | None = None
        self._seen_ids: dict[str, int] = {}
        self._saw_entries = False
        self.count = 0

    def top_level_keys(self, keys: Iterable[str]) -> None:
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                self.problems.append(Problem(key, "given twice"))
            seen.add(key)
            if key not in BATCH_FIELDS:
                self.problems.append(Problem(key, "unknown field"))
            if key == "entries":
                self._saw_entries = True

    def header(self, raw: Mapping[str, Any]) -> None:
        try:
            header = BatchHeader.model_validate(raw)
        except ValidationError as error:
            self.problems.extend(problems_from_validation(error))
            return
        self.folder = header.folder
        if self.folder_required and header.folder is None:
            self.problems.append(
                Problem(
                    "folder",
                    f"required field missing (the setup is for folder {self.expected_folder!r})",
                )
            )
        if (
            self.expected_folder is not None
            and header.folder is not None
            and header.folder != self.expected_folder
        ):
            self.problems.append(
                Problem(
                    "folder",
                    f"the document is for folder {header.folder!r}, not {self.expected_folder!r}"
                    " as named on the command line",
                )
            )

    def entry(self, raw: object) -> Entry | None:
        """The entry, or None when it is malformed (its problems are kept)."""
        index = self.count
        self.count += 1
        try:
            entry = parse_entry(raw, index)
        except MalformedDocument as malformed:
            self.problems.extend(malformed.problems)
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(raw_id, str) and raw_id:
                self._note_id(raw_id, index)
            return None
        self._note_id(entry.id, index)
        return entry

    def _note_id(self, entry_id: str, index: int) -> None:
        first = self._seen_ids.setdefault(entry_id, index)
        if first != index:
            self.problems.append(
                Problem(
                    f"entries[{index}].id", f"duplicate id {entry_id!r} (also entries[{first}])"
                )
            )

    def not_a_list(self, got: str) -> None:
        self.problems.append(Problem("entries", f"expected a list, got {got}"))

    def finish(self, source: str = "document") -> None:
        if not self._saw_entries:
            self.problems.insert(0, Problem("entries", "required field missing"))
        if self.problems:
            raise MalformedDocument(self.problems, source=source)
