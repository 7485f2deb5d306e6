"""What travels through the relay and what it tells about itself: batches, results, states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import msgspec

from ledgerbridge.domain.clock import local_time
from ledgerbridge.domain.plurals import counted, listed
from ledgerbridge.domain.setup import Account, FolderSetup, ThirdParty

BatchKind = Literal["entries", "reference"]
ReferenceKind = Literal["account", "third_party"]

ENTRIES: BatchKind = "entries"
REFERENCE: BatchKind = "reference"


class OutgoingEntry(msgspec.Struct, frozen=True, gc=False):
    """One entry on its way to the ledger: its idempotency key and its §4.2 document as JSON.

    A struct rather than a frozen dataclass, as every per-entry value of a batch: made
    several times quicker."""

    key: str
    content: str


@dataclass(frozen=True, slots=True)
class ReferenceItem:
    """An account or a third party sent at a client's initial connection (§4.1 shape)."""

    kind: ReferenceKind
    document: Mapping[str, Any]

    @classmethod
    def of_account(cls, account: Account) -> ReferenceItem:
        return cls("account", msgspec.to_builtins(account))

    @classmethod
    def of_third_party(cls, third_party: ThirdParty) -> ReferenceItem:
        return cls("third_party", msgspec.to_builtins(third_party))

    @property
    def code(self) -> str:
        return str(self.document.get("number" if self.kind == "account" else "code", ""))

    @property
    def label(self) -> str:
        """How the accountant names it: `account 401000`, `third party FEDF`."""
        return f"{self.kind.replace('_', ' ')} {self.code}"

    @property
    def key(self) -> str:
        """Its key in the relay, in place of an entry's idempotency key: `account:401000`."""
        return f"{self.kind}:{self.code}"


def reference_items(
    accounts: Iterable[Account], third_parties: Iterable[ThirdParty]
) -> tuple[ReferenceItem, ...]:
    """The reference data of an initial connection: accounts first, then third parties."""
    return (
        *(ReferenceItem.of_account(account) for account in accounts),
        *(ReferenceItem.of_third_party(party) for party in third_parties),
    )


@dataclass(frozen=True, slots=True)
class OutgoingBatch:
    """A batch deposited in the relay for one folder; its id is chosen by the sender.

    An entries batch carries entries; a reference batch (initial connection) carries
    accounts and third parties, never entries.
    """

    batch_id: str
    folder: str
    entries: tuple[OutgoingEntry, ...] = ()
    reference: tuple[ReferenceItem, ...] = ()
    kind: BatchKind = ENTRIES

    def __post_init__(self) -> None:
        if self.kind == ENTRIES and self.reference:
            raise ValueError("an entries batch carries no reference data")
        if self.kind == REFERENCE and self.entries:
            raise ValueError("a reference batch carries no entries")

    @classmethod
    def of_reference(
        cls, batch_id: str, folder: str, items: Iterable[ReferenceItem]
    ) -> OutgoingBatch:
        return cls(batch_id=batch_id, folder=folder, reference=tuple(items), kind=REFERENCE)

    @property
    def size(self) -> int:
        return len(self.entries) if self.kind == ENTRIES else len(self.reference)


@dataclass(frozen=True, slots=True)
class DepositReceipt:
    """The relay holds the batch; `already_deposited` when this batch id came before."""

    batch_id: str
    folder: str
    kind: BatchKind
    size: int
    deposited_at: datetime
    already_deposited: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "folder": self.folder,
            "kind": self.kind,
            "size": self.size,
            "deposited_at": self.deposited_at.isoformat(),
            "already_deposited": self.already_deposited,
        }


@dataclass(frozen=True, slots=True)
class WaitingBatch:
    """A batch not yet injected, and why it still waits when an opening said so."""

    batch_id: str
    folder: str
    kind: BatchKind
    size: int
    deposited_at: datetime
    last_attempt_at: datetime | None = None
    last_wait_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "folder": self.folder,
            "kind": self.kind,
            "size": self.size,
            "deposited_at": self.deposited_at.isoformat(),
            "last_attempt_at": _iso(self.last_attempt_at),
            "last_wait_reason": self.last_wait_reason,
        }


class RelayResult(msgspec.Struct, frozen=True):
    """The ledger's answer for one item of an injected batch, on its way to the workspace.

    `result` is the §4.3 dict (with `entry_number`, `fiscal_year` and `replay` once
    posted). Reference data has `item` (`third party FEDF`); it is `expected` when the ledger already had it.
    `result_id` is its chunk's (relay/tables.py): the results of a chunk share it, and are
    acknowledged together.
    """

    result_id: int
    batch_id: str
    folder: str
    position: int
    key: str
    result: Mapping[str, Any]
    expected: bool
    created_at: datetime
    item: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Credential:
    """The reference administrator's authentication, as of the moment it was read."""

    authenticated_at: datetime
    expires_at: datetime
    valid: bool

    @property
    def reason(self) -> str | None:
        """Why it does not let injection through, or None; its time in UTC, as the API gives it."""
        return self.reason_in("UTC")

    def reason_in(self, timezone: str) -> str | None:
        """The reason, its time in this zone, named (`2026-12-06 00:00 CET`)."""
        if self.valid:
            return None
        when = local_time(self.expires_at, timezone)
        return (
            f"the GE Connector security certificate expired on {when}: the reference"
            " administrator must identify again"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "authenticated": True,
            "authenticated_at": self.authenticated_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "valid": self.valid,
            "reason": self.reason,
        }


NEVER_AUTHENTICATED = "the reference administrator has never authenticated"
# What an opening refused by the credential notes on the batches it leaves waiting: no time,
# as a note outlives the zone it would be read in; the credential itself tells when.
CERTIFICATE_LAPSED = (
    "the GE Connector security certificate has expired: the reference administrator must"
    " identify again"
)


def credential_dict(credential: Credential | None) -> dict[str, Any]:
    if credential is not None:
        return credential.as_dict()
    return {
        "authenticated": False,
        "authenticated_at": None,
        "expires_at": None,
        "valid": False,
        "reason": NEVER_AUTHENTICATED,
    }


def credential_reason(credential: Credential | None, timezone: str = "UTC") -> str | None:
    return NEVER_AUTHENTICATED if credential is None else credential.reason_in(timezone)


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """A folder's marketplace connector and the administrator's credential, read together.

    Connected (green) when the connector is active with the interactions accepted and the
    credential valid; disconnected otherwise, with every reason.
    """

    folder: str
    active: bool
    consent: bool
    changed_at: datetime | None
    credential: Credential | None
    waiting_batches: int = 0

    @property
    def connector_reason(self) -> str | None:
        """Why the connector itself lets nothing through, or None when it is ready."""
        if not self.active:
            if self.changed_at is None:
                return "the marketplace connector of the folder has never been activated"
            return "the marketplace connector of the folder is deactivated"
        if not self.consent:
            return "the interactions of the marketplace connector were not accepted"
        return None

    @property
    def credential_reason(self) -> str | None:
        return credential_reason(self.credential)

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.reasons_in("UTC")

    def reasons_in(self, timezone: str) -> tuple[str, ...]:
        """Every reason, the credential's time in this zone."""
        credential = credential_reason(self.credential, timezone)
        return tuple(reason for reason in (credential, self.connector_reason) if reason)

    @property
    def connected(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str | None:
        return self.reason_in("UTC")

    def reason_in(self, timezone: str) -> str | None:
        return "; ".join(self.reasons_in(timezone)) or None

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "active": self.active,
            "consent": self.consent,
            "changed_at": _iso(self.changed_at),
            "connected": self.connected,
            "indicator": "green" if self.connected else "disconnected",
            "reason": self.reason,
            "administrator": credential_dict(self.credential),
            "waiting_batches": self.waiting_batches,
        }


@dataclass(frozen=True, slots=True)
class Publication:
    """A folder's setup as the ledger published it to the workspace, and when."""

    folder: str
    setup: FolderSetup
    published_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "published_at": self.published_at.isoformat(),
            "fiscal_years": [msgspec.to_builtins(year) for year in self.setup.fiscal_years],
            "setup": self.setup.to_document(),
        }


@dataclass(frozen=True, slots=True)
class OpeningReport:
    """What opening a folder's accounting did: batches injected, or why they wait."""

    folder: str
    injected_batches: int = 0
    posted: int = 0
    replayed: int = 0
    rejected: int = 0
    expected_rejections: int = 0
    reference_added: int = 0
    waiting_batches: int = 0
    wait_reason: str | None = None
    expected_items: tuple[str, ...] = field(default_factory=tuple)
    # Reference data the ledger refused for another reason than having it, each with why.
    refused_items: tuple[str, ...] = field(default_factory=tuple)
    busy_batches: int = 0  # being injected by another opening of the folder

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "injected_batches": self.injected_batches,
            "posted": self.posted,
            "replayed": self.replayed,
            "rejected": self.rejected,
            "expected_rejections": self.expected_rejections,
            "expected_items": list(self.expected_items),
            "refused_items": list(self.refused_items),
            "reference_added": self.reference_added,
            "waiting_batches": self.waiting_batches,
            "wait_reason": self.wait_reason,
            "busy_batches": self.busy_batches,
        }

    def lines(self) -> list[str]:
        """The report as the person opening the folder reads it."""
        if self.wait_reason is not None:
            waiting = counted(self.waiting_batches, "batch waits", "batches wait")
            return [
                f"Folder {self.folder} opened; {waiting} in the relay, not injected:"
                f" {self.wait_reason}."
            ]
        whose = "its" if self.busy_batches == 1 else "their"
        busy = (
            f"{counted(self.busy_batches, 'batch is', 'batches are')} being injected by another"
            f" opening of the folder at this moment, and left to it: {whose} answers come back"
            " to the workspace as usual."
        )
        if not self.injected_batches:
            if self.busy_batches:
                return [f"Folder {self.folder} opened; {busy}"]
            return [f"Folder {self.folder} opened; no batch waits in the relay."]
        lines = [
            f"Folder {self.folder} opened; {counted(self.injected_batches, 'batch', 'batches')}"
            f" injected: {self.posted} posted, {self.replayed} already posted (replays),"
            f" {self.rejected} rejected."
        ]
        if self.reference_added:
            lines.append(
                f"{counted(self.reference_added, 'account or third party', 'accounts and third parties')}"
                " of the initial connection added to the folder."
            )
        if self.expected_rejections:
            shown = ", ".join(self.expected_items[:10])
            more = len(self.expected_items) - 10
            if more > 0:
                shown += f" and {more} more"
            expected = (
                "this rejection is expected and has no consequence — ignore it"
                if self.expected_rejections == 1
                else "these rejections are expected and have no consequence — ignore them"
            )
            lines.append(
                f"{counted(self.expected_rejections, 'third-party or account record', 'third-party or account records')}"
                f" sent at the initial connection rejected ({shown}): {expected}."
            )
        if self.refused_items:
            lines.append(
                f"{counted(len(self.refused_items), 'third-party or account record', 'third-party or account records')}"
                f" sent at the initial connection refused by the ledger: {listed(self.refused_items, separator='; ')}."
                " Correct the reference file, or add what is missing in the ledger, then connect"
                f" the client again (ledgerbridge client connect {self.folder} --reference FILE)."
            )
        if self.busy_batches:
            lines.append(busy[0].upper() + busy[1:])
        return lines


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
