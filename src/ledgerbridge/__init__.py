"""ledgerbridge: carries accounting entries from a firm's workspace to its ledger and back."""

__version__ = "0.1.0"
