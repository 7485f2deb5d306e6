"""The relay: batches in transit per folder, the ledger's answers, connectors, the credential."""

from ledgerbridge.relay.errors import (
    CERTIFICATE_EXPIRED_MESSAGE,
    BatchIdTaken,
    CertificateExpired,
    ConnectorInactive,
    ConsentRequired,
    FolderNotInLedger,
)
from ledgerbridge.relay.injection import InjectionLedger
from ledgerbridge.relay.service import Relay
from ledgerbridge.relay.values import (
    ConnectorState,
    Credential,
    DepositReceipt,
    OpeningReport,
    OutgoingBatch,
    OutgoingEntry,
    Publication,
    ReferenceItem,
    RelayResult,
    WaitingBatch,
    reference_items,
)

__all__ = [
    "CERTIFICATE_EXPIRED_MESSAGE",
    "BatchIdTaken",
    "CertificateExpired",
    "ConnectorInactive",
    "ConnectorState",
    "ConsentRequired",
    "Credential",
    "DepositReceipt",
    "FolderNotInLedger",
    "InjectionLedger",
    "OpeningReport",
    "OutgoingBatch",
    "OutgoingEntry",
    "Publication",
    "ReferenceItem",
    "Relay",
    "RelayResult",
    "WaitingBatch",
    "reference_items",
]
