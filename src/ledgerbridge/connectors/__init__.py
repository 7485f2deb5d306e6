"""How the workspace reaches a ledger: one small protocol, the built-in relay connector first."""

from ledgerbridge.connectors.base import IncomingResult, LedgerConnector, LinkState, ReferenceItem
from ledgerbridge.connectors.relay_connector import RelayConnector

__all__ = ["IncomingResult", "LedgerConnector", "LinkState", "ReferenceItem", "RelayConnector"]
