"""Entries, their lines and analytic allocations, as the §4.2 entries batch writes them.

Only the shape is enforced here (types, dates, amounts, unknown fields). Missing business
content (no journal, no account, unbalanced totals...) is left to the check, which rejects
that entry alone; an absent value is None, "" , an empty list or a zero amount.
"""

from __future__ import annotations

import datetime
import json
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from ledgerbridge.domain.given_twice import json_given_twice
from ledgerbridge.domain.malformed import MalformedDocument, Problem, join_path
from ledgerbridge.domain.values import CENT, MAX_INTEGER_DIGITS, checked_amount


class _Struct(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, gc=False
):
    """An immutable value read straight from JSON; absent fields are left out when written.

    Absent is one thing however it was written (a missing key, null, "", [], a zero
    amount): None, so that equal contents are equal values and encode alike.
    """


_set = msgspec.structs.force_setattr


def _amount(value: Decimal | None) -> Decimal | None:
    return None if value is None else checked_amount(value) or None


class Allocation(_Struct, frozen=True):
    """A share of a line's amount on one section of one analytic axis."""

    axis: str | None = None
    section: str | None = None
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        if self.amount is not None:
            _set(self, "amount", _amount(self.amount))
        if self.axis == "":
            _set(self, "axis", None)
        if self.section == "":
            _set(self, "section", None)


class Line(_Struct, frozen=True):
    account: str | None = None
    auxiliary: str | None = None
    label: str | None = None
    debit: Decimal | None = None
    credit: Decimal | None = None
    analytics: list[Allocation] | None = None

    def __post_init__(self) -> None:
        # Every entry is read at each hop (import, deposit, injection) and most amounts are
        # written in cents: that case is decided here, inline, without a call per amount
        # (the same test as checked_amount's first one); any other goes through _amount.
        debit = self.debit
        if debit is not None and not (
            debit.same_quantum(CENT)
            and not debit.is_signed()
            and debit
            and debit.adjusted() < MAX_INTEGER_DIGITS
        ):
            _set(self, "debit", _amount(debit))
        credit = self.credit
        if credit is not None and not (
            credit.same_quantum(CENT)
            and not credit.is_signed()
            and credit
            and credit.adjusted() < MAX_INTEGER_DIGITS
        ):
            _set(self, "credit", _amount(credit))
        if self.account == "":
            _set(self, "account", None)
        if self.auxiliary == "":
            _set(self, "auxiliary", None)
        if self.label == "":
            _set(self, "label", None)
        if self.analytics == []:
            _set(self, "analytics", None)


def entry_id_problem(entry_id: str) -> str | None:
    """What is wrong with a non-empty entry id (or folder code), or None: an id names the
    entry in every list and key, so blank, or holding a line break or another control
    character, it is refused."""
    # isprintable() tells the usual id at once; only another is looked at character by character.
    if not entry_id.isprintable() and any(unicodedata.category(c) == "Cc" for c in entry_id):
        return "must not hold a control character (a line break, a tab...)"
    return "must not be blank" if entry_id.isspace() else None


class Entry(_Struct, frozen=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    journal: str | None = None
    date: datetime.date | None = None
    reference: str | None = None
    label: str | None = None
    lines: list[Line] | None = None

    def __post_init__(self) -> None:
        if entry_id_problem(self.id) is not None:
            raise ValueError("the entry's id")  # the schema says what is wrong, and where
        if self.journal == "":
            _set(self, "journal", None)
        if self.reference == "":
            _set(self, "reference", None)
        if self.label == "":
            _set(self, "label", None)
        if self.lines == []:
            _set(self, "lines", None)


BATCH_FIELDS = frozenset({"folder", "entries"})

_DECODER = msgspec.json.Decoder(Entry)
_ENCODER = msgspec.json.Encoder(decimal_format="string")
_LINES_DECODER = msgspec.json.Decoder(list[Line])


def is_strict_entry(data: bytes | str) -> bool:
    """Whether `data` is strict JSON that `decode_entry` reads as an entry at once, by its
    fast reader: a document that can be kept as it is, not read, such as a batch's deposit.

    False tells nothing: `decode_entry` decides (its schema takes more), and names what is
    wrong.
    """
    try:
        _DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    return True


def _prefix(index: int | None) -> str:
    return "" if index is None else f"entries[{index}]"


def parse_entry(raw: object, index: int | None = None) -> Entry:
    """One entry from Python values (YAML, a patched document), at position `index` of a batch.

    Read by the schema of record, which takes what the fast reader leaves to it; raises
    MalformedDocument naming every wrong path.
    """
    from ledgerbridge.domain.schema import EntryShape, read  # pydantic: loaded when needed

    return msgspec.convert(read(EntryShape, raw, _prefix(index), exclude_none=True), Entry)


def decode_entry(data: bytes | str | msgspec.Raw, index: int | None = None) -> Entry:
    """One entry from its JSON text, read at C speed; anything unusual goes to the schema."""
    try:
        return _DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    text = data if isinstance(data, str) else bytes(data)
    try:
        raw = json.loads(text, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedDocument([Problem(_prefix(index), f"not valid JSON: {error}")]) from None
    return parse_entry(raw, index)


def entry_json(entry: Entry) -> bytes:
    """The entry as compact JSON: amounts as decimal strings, absent fields left out."""
    return _ENCODER.encode(entry)


def lines_json(lines: list[Line] | None) -> str:
    """An entry's lines as the ledger keeps them with a posted entry: the §4.2 lines in
    compact JSON, absent fields left out, amounts as decimal strings of cents."""
    return _ENCODER.encode(lines or []).decode()


def lines_from_json(text: str | bytes) -> list[Line]:
    """The lines `lines_json` wrote."""
    return _LINES_DECODER.decode(text)


def entry_document(entry: Entry) -> dict[str, Any]:
    """The entry as JSON-ready Python values (amounts as decimal strings)."""
    document: dict[str, Any] = msgspec.to_builtins(entry)
    return document


class BatchReader:
    """Validates an entries batch piece by piece, so a large one can be streamed.

    Feed the top-level keys and each raw entry; collect every problem, then `finish()`
    raises MalformedDocument if anything was wrong. Duplicate ids are caught here.
    """

    def __init__(
        self, expected_folder: str | None = None, *, folder_required: bool = False
    ) -> None:
        self.expected_folder = expected_folder
        # `ledger check`: the expected folder is the setup's, and the batch must name it.
        self.folder_required = folder_required
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
        folder = raw.get("folder")
        if raw.keys() - {"folder"} or not (folder is None or isinstance(folder, str)):
            from ledgerbridge.domain.schema import BatchHeaderShape, read

            try:
                folder = read(BatchHeaderShape, raw)["folder"]
            except MalformedDocument as malformed:
                self.problems.extend(malformed.problems)
                return
        self.folder = folder
        if self.folder_required and folder is None:
            self.problems.append(
                Problem(
                    "folder",
                    f"required field missing (the setup is for folder {self.expected_folder!r})",
                )
            )
        if (
            self.expected_folder is not None
            and folder is not None
            and folder != self.expected_folder
        ):
            named = (
                f"but the setup is for folder {self.expected_folder!r}"
                if self.folder_required
                else f"not {self.expected_folder!r} as named on the command line"
            )
            self.problems.append(
                Problem("folder", f"the document is for folder {folder!r}, {named}")
            )

    def entry(self, raw: object, *, given_twice: Iterable[Problem] = ()) -> Entry | None:
        """The entry from Python values, or None when it is malformed (its problems are kept):
        `given_twice`, the problems of its keys given twice (paths within the entry)."""
        index = self.count
        self.count += 1
        twice = [
            Problem(join_path(_prefix(index), [problem.path]), problem.message)
            for problem in given_twice
        ]
        self.problems.extend(twice)
        try:
            entry = parse_entry(raw, index)
        except MalformedDocument as malformed:
            self.problems.extend(malformed.problems)
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(raw_id, str) and raw_id:
                self._note_id(raw_id, index)
            return None
        self._note_id(entry.id, index)
        return None if twice else entry

    def entry_json(self, data: bytes | msgspec.Raw) -> Entry | None:
        """The entry from its JSON text (fast); what the fast reader refuses goes to `entry`,
        read exactly, each key given twice in it told too.

        The fast reader, like any JSON reader, keeps the last value of a key given twice:
        telling that of every entry would cost about as much again as reading it."""
        try:
            entry = _DECODER.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            raw, twice = json_given_twice(bytes(data))
            return self.entry(raw, given_twice=twice)
        index = self.count
        self.count += 1
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

    def not_an_object(self) -> None:
        """The document is no object at all: that alone is said, not each field it lacks."""
        self.problems.append(Problem("", "expected an object with `folder` and `entries`"))
        self._saw_entries = True

    def not_a_list(self, got: str) -> None:
        self.problems.append(Problem("entries", f"expected a list, got {got}"))

    def finish(self, source: str = "document") -> None:
        if not self._saw_entries:
            self.problems.insert(0, Problem("entries", "required field missing"))
        if self.problems:
            raise MalformedDocument(self.problems, source=source)
