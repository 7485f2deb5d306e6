"""The connector protocol: what the workspace asks of any ledger, and the values it gets back.

The workspace never reads a ledger's tables; it deposits batches, collects the results,
and reads the link's state and the published setup through this protocol only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import msgspec

from ledgerbridge.domain.refusals import Refusal
from ledgerbridge.domain.setup import FolderSetup
from ledgerbridge.relay.values import OutgoingBatch, ReferenceItem

__all__ = [
    "DepositRefused",
    "IncomingResult",
    "LedgerConnector",
    "LinkState",
    "OutgoingBatch",
    "ReferenceItem",
]


class DepositRefused(Refusal):
    """The ledger's side will never take this batch as it is (not a passing failure).

    `problems` name the entries at fault by their position in the batch, when known.
    """

    code = "deposit_refused"

    def __init__(
        self, batch_id: str, reason: str, problems: tuple[tuple[int, str], ...] = ()
    ) -> None:
        self.batch_id = batch_id
        self.reason = reason
        self.problems = problems
        super().__init__(f"Batch {batch_id} was refused by the relay: {reason}.")


class IncomingResult(msgspec.Struct, frozen=True):
    """The ledger's answer for one item of a batch.

    `result` is the §4.3 dict (with `entry_number`, `fiscal_year`, `replay` once posted).
    An entry's answer has its idempotency key as `key` and `item` None; reference data
    (initial connection) has `item` (`third party FEDF`), `key` like `third_party:FEDF`,
    is `expected` when the ledger already had the item: never a failure of an entry.
    `result_id` is what `acknowledge` takes back; answers may share one (the relay
    acknowledges them by chunks), so the workspace acknowledges what it collected only once
    it has applied all of it.
    """

    result_id: int
    batch_id: str
    key: str
    result: Mapping[str, Any]
    expected: bool = False
    item: str | None = None


@dataclass(frozen=True, slots=True)
class LinkState:
    """How a folder's link to the ledger stands, for the indicator and the diagnostics."""

    folder: str
    connector_active: bool
    consent: bool
    connector_reason: str | None  # why the connector lets nothing through, or None
    credential_expires_at: datetime | None  # None: never authenticated
    credential_reason: str | None  # why the credential lets nothing through, or None
    waiting_batches: int = 0
    oldest_waiting_at: datetime | None = None
    wait_reason: str | None = None  # what the last opening said of the waiting batches

    @property
    def connected(self) -> bool:
        """The seed's green indicator: connector active and accepted, credential valid."""
        return self.connector_reason is None and self.credential_reason is None

    @property
    def reason(self) -> str | None:
        """Why it is disconnected, or None."""
        reasons = [text for text in (self.credential_reason, self.connector_reason) if text]
        return "; ".join(reasons) or None

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "connected": self.connected,
            "reason": self.reason,
            "connector_active": self.connector_active,
            "consent": self.consent,
            "connector_reason": self.connector_reason,
            "credential_expires_at": _iso(self.credential_expires_at),
            "credential_reason": self.credential_reason,
            "waiting_batches": self.waiting_batches,
            "oldest_waiting_at": _iso(self.oldest_waiting_at),
            "wait_reason": self.wait_reason,
        }


class LedgerConnector(Protocol):
    """What the workspace needs of a ledger, whichever it is."""

    def folder_exists(self, folder: str) -> bool:
        """Whether the ledger has this folder (an initial connection needs it)."""
        ...

    def deposit(self, batch: OutgoingBatch) -> None:
        """Hand a batch over; idempotent by batch id (resending it is always safe).

        Raises DepositRefused when the batch will never be taken as it is.
        """
        ...

    def collect_results(self, folder: str) -> list[IncomingResult]:
        """The answers not yet acknowledged, oldest first."""
        ...

    def acknowledge(self, folder: str, result_ids: list[int]) -> None:
        """The workspace has applied these answers; again is a no-op."""
        ...

    def link_state(self, folder: str) -> LinkState:
        """The connector, the credential and the batches still waiting."""
        ...

    def published_setup(self, folder: str) -> tuple[FolderSetup, datetime] | None:
        """The folder's setup as the ledger last published it, and when; None if never."""
        ...


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
