"""Injecting one batch into the ledger: entries posted through it, reference data added to it.

Nothing here touches the relay's tables: the service reads the items, hands them over,
and stores the answers with the batch's new state in one transaction afterwards.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

import msgspec

from ledgerbridge.bulk import chunked
from ledgerbridge.domain.catalogue import render_message
from ledgerbridge.domain.entries import Entry, decode_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.setup import Account, FolderSetup, ThirdParty, read_value


class InjectionLedger(Protocol):
    """What injection needs of the ledger (the built-in `Ledger` is one).

    `post_batch` answers each entry through `on_result`, in input order. With `forked`, it
    may read and check the entries in another process (the built-in ledger does: the
    entries it is given also hand their documents on unread); a ledger that cannot ignores
    it.
    """

    def folders(self) -> list[str]: ...

    def has_folder(self, folder: str) -> bool: ...

    def folder_setup(self, folder: str) -> FolderSetup: ...

    def apply_setup(self, setup: FolderSetup) -> object: ...

    def post_batch(
        self,
        folder: str,
        entries: Iterable[Entry],
        *,
        key: Callable[[Entry], str],
        on_result: Callable[[CheckResult], None],
        forked: bool = False,
    ) -> object: ...


class StoredItem(NamedTuple):
    """An item of a batch as the relay keeps it."""

    position: int
    key: str
    kind: str  # entry | account | third_party
    # The §4.2 entry or §4.1 item: its JSON itself, or its JSON text (see relay/chunks.py).
    content: msgspec.Raw | str


class Answer(NamedTuple):
    """The ledger's answer for one item, ready to be stored."""

    position: int
    key: str
    item: str | None
    result: msgspec.Raw  # the §4.3 result, as JSON
    expected: bool


@dataclass
class Injection:
    """What injecting one batch gave: the answers, and what they add up to."""

    answers: list[Answer] = field(default_factory=list)
    posted: int = 0
    replayed: int = 0
    rejected: int = 0
    expected_rejections: int = 0
    reference_added: int = 0
    expected_items: list[str] = field(default_factory=list)
    refused_items: list[str] = field(default_factory=list)  # each with why


class LedgerOutOfStep(RuntimeError):
    """The ledger answered another entry than the one expected next: nothing is stored."""


def _document(item: StoredItem) -> Any:
    content = item.content
    text = content if isinstance(content, str) else bytes(content)
    # Amounts never pass through a float, even one written as a JSON number.
    return json.loads(text, parse_float=Decimal)


_ENCODER = msgspec.json.Encoder()


def _json(value: dict[str, Any]) -> msgspec.Raw:
    return msgspec.Raw(_ENCODER.encode(value))


# Entries handed at a time to a ledger that reads them aside (see `_ItemEntries.documents`).
DOCUMENTS_AT_ONCE = 125


class _ItemEntries:
    """A batch's entry items as the ledger takes them: read here one at a time as entries, or
    handed on unread, a piece at a time, with their keys (`documents`), to a ledger that reads
    them in another process. Either way, each one given waits for its answer, in order."""

    def __init__(self, items: Iterable[StoredItem]) -> None:
        self._items = items
        # Given and not answered yet: position, key and, read here, the entry itself
        # (holding it keeps its id() unique, so its key is found by its identity).
        self.pending: deque[tuple[int, str, Entry | None]] = deque()
        self._keys: dict[int, str] = {}

    def __iter__(self) -> Iterator[Entry]:
        for item in self._items:
            entry = decode_entry(item.content, item.position)
            self._keys[id(entry)] = item.key
            self.pending.append((item.position, item.key, entry))
            yield entry

    def key(self, entry: Entry) -> str:
        return self._keys[id(entry)]

    def documents(self) -> Iterator[list[tuple[int, str, bytes]]]:
        for piece in chunked(self._items, DOCUMENTS_AT_ONCE):
            documents = [(item.position, item.key, _text(item.content)) for item in piece]
            self.pending.extend((position, key, None) for position, key, _ in documents)
            yield documents

    def answered(self, result: CheckResult) -> tuple[int, str]:
        """The position and key of the entry `result` answers: the next one given."""
        if not self.pending:
            raise LedgerOutOfStep(f"the ledger answered entry {result.id!r}, never given")
        position, key, entry = self.pending.popleft()
        if entry is not None:
            if result.id != entry.id:
                raise LedgerOutOfStep(
                    f"the ledger answered entry {result.id!r} where {entry.id!r} was expected"
                )
            del self._keys[id(entry)]
        return position, key


def _text(content: msgspec.Raw | str) -> bytes:
    return content.encode() if isinstance(content, str) else bytes(content)


def inject_entries(
    ledger: InjectionLedger, folder: str, items: Iterable[StoredItem], *, forked: bool = False
) -> Injection:
    """Post the entries through the ledger, each under its own idempotency key.

    Items are read one at a time as the ledger takes them, so a batch of any size never sits
    whole in memory as entries. The ledger answers in input order. With `forked`, the
    ledger may read and check them in another process (the built-in ledger does: see
    `ledger.forked_posting.EntryDocuments`).
    """
    injection = Injection()
    batch = _ItemEntries(items)

    def on_result(result: CheckResult) -> None:
        position, key = batch.answered(result)
        injection.answers.append(Answer(position, key, None, _json(result.as_dict()), False))
        if not result.accepted:
            injection.rejected += 1
        elif result.replay:
            injection.replayed += 1
        else:
            injection.posted += 1

    ledger.post_batch(folder, batch, key=batch.key, on_result=on_result, forked=forked)
    if batch.pending:
        unanswered = counted(len(batch.pending), "entry", "entries")
        raise LedgerOutOfStep(f"the ledger left {unanswered} unanswered")
    return injection


def _reference_rejection(
    item: StoredItem, label: str, code: str, message: str, detail: str, *, expected: bool
) -> Answer:
    result = {
        "id": item.key.split(":", 1)[1],
        "status": "rejected",
        "code": code,
        "message": message,
        "findings": [{"code": code, "line": None, "message": message, "detail": detail}],
    }
    # Expected (SPEC §3): the ledger already has the item. Anything else is a real refusal.
    return Answer(item.position, item.key, label, _json(result), expected)


def _reference_added(item: StoredItem, label: str) -> Answer:
    # Told too, though nothing is wrong with it: an earlier connection's refusal of the same
    # item is settled by it in the workspace's Rejections tab.
    result = {"id": item.key.split(":", 1)[1], "status": "accepted"}
    return Answer(item.position, item.key, label, _json(result), False)


def inject_reference(
    ledger: InjectionLedger, folder: str, items: Iterable[StoredItem]
) -> Injection:
    """Add to the folder the accounts and third parties it lacks; reject those it has.

    The rejections are expected: the ledger keeps its own records. A third party whose
    account the folder has not (even with this batch's accounts) is rejected as Sage GE
    does, `Record not found`. All additions go in one setup update. Every item is answered,
    an added one as accepted.
    """
    setup = ledger.folder_setup(folder)
    accounts = {account.number for account in setup.accounts}
    parties = {party.code for party in setup.third_parties}
    new_accounts: list[Account] = []
    new_parties: list[ThirdParty] = []
    injection = Injection()
    # Accounts first, so that a third party may name an account of the same batch.
    for item in sorted(items, key=lambda item: (item.kind != "account", item.position)):
        document = _document(item)
        if item.kind == "account":
            account = read_value(Account, document)
            label = f"account {account.number}"
            if account.number in accounts:
                injection.answers.append(
                    _reference_rejection(
                        item,
                        label,
                        "record_already_exists",
                        f"Record already exists: {label}",
                        f"folder {folder} already has {label}; the ledger keeps its own",
                        expected=True,
                    )
                )
                continue
            accounts.add(account.number)
            new_accounts.append(account)
            injection.answers.append(_reference_added(item, label))
            continue
        party = read_value(ThirdParty, document)
        label = f"third party {party.code}"
        if party.code in parties:
            injection.answers.append(
                _reference_rejection(
                    item,
                    label,
                    "record_already_exists",
                    f"Record already exists: {label}",
                    f"folder {folder} already has {label}; the ledger keeps its own",
                    expected=True,
                )
            )
        elif party.account not in accounts:
            why = f"{label} belongs to account {party.account}, which folder {folder} does not have"
            injection.refused_items.append(why)
            injection.answers.append(
                _reference_rejection(
                    item,
                    label,
                    "record_not_found",
                    render_message("record_not_found", {}),
                    why,
                    expected=False,
                )
            )
        else:
            parties.add(party.code)
            new_parties.append(party)
            injection.answers.append(_reference_added(item, label))
    injection.answers.sort(key=lambda answer: answer.position)
    expected = [answer for answer in injection.answers if answer.expected]
    injection.expected_rejections = len(expected)
    injection.expected_items = [answer.item or answer.key for answer in expected]
    injection.reference_added = len(new_accounts) + len(new_parties)
    injection.rejected = len(injection.refused_items)
    if injection.reference_added:
        ledger.apply_setup(
            msgspec.structs.replace(
                setup,
                accounts=[*setup.accounts, *new_accounts],
                third_parties=[*setup.third_parties, *new_parties],
            )
        )
    return injection
