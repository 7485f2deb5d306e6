"""The built-in connector: the workspace reaches the built-in ledger through the relay."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime

from ledgerbridge.connectors.base import DepositRefused, IncomingResult, LinkState
from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.setup import FolderSetup
from ledgerbridge.relay.errors import BatchIdTaken
from ledgerbridge.relay.service import Relay
from ledgerbridge.relay.values import OutgoingBatch


class RelayConnector:
    """A `LedgerConnector` over the relay; the ledger's folders come from `ledger_folders`,
    so the connector never reads the ledger's tables."""

    def __init__(self, relay: Relay, ledger_folders: Callable[[], Collection[str]]) -> None:
        self._relay = relay
        self._ledger_folders = ledger_folders

    def folder_exists(self, folder: str) -> bool:
        return folder in self._ledger_folders()

    def deposit(self, batch: OutgoingBatch) -> None:
        try:
            self._relay.deposit(batch)
        except MalformedDocument as malformed:
            raise DepositRefused(
                batch.batch_id,
                "the relay cannot read every entry of it",
                tuple(
                    (position, str(problem))
                    for problem in malformed.problems
                    if (position := _position(problem.path)) is not None
                ),
            ) from None
        except BatchIdTaken as taken:
            raise DepositRefused(batch.batch_id, taken.message.rstrip(".")) from None

    def collect_results(self, folder: str) -> list[IncomingResult]:
        return [
            IncomingResult(
                result_id=result.result_id,
                batch_id=result.batch_id,
                key=result.key,
                result=result.result,
                expected=result.expected,
                item=result.item,
            )
            for result in self._relay.collect_results(folder)
        ]

    def acknowledge(self, folder: str, result_ids: list[int]) -> None:
        self._relay.acknowledge(result_ids, folder=folder)

    def link_state(self, folder: str) -> LinkState:
        state = self._relay.connector_state(folder)
        waiting = self._relay.waiting(folder)
        credential = state.credential
        return LinkState(
            folder=folder,
            connector_active=state.active,
            consent=state.consent,
            connector_reason=state.connector_reason,
            credential_expires_at=credential.expires_at if credential else None,
            credential_reason=state.credential_reason,
            waiting_batches=len(waiting),
            oldest_waiting_at=waiting[0].deposited_at if waiting else None,
            wait_reason=next(
                (batch.last_wait_reason for batch in waiting if batch.last_wait_reason), None
            ),
        )

    def published_setup(self, folder: str) -> tuple[FolderSetup, datetime] | None:
        publication = self._relay.published_setup(folder)
        if publication is None:
            return None
        return publication.setup, publication.published_at


def _position(path: str) -> int | None:
    """The entry's position in a problem's path (`entries[3].lines[0].debit` -> 3)."""
    match = _ENTRY.match(path)
    return int(match.group(1)) if match else None


_ENTRY = re.compile(r"entries\[(\d+)\]")
