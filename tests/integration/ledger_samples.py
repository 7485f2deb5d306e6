"""The ACME folder of SPEC §4.1 and entries to post in it, for the ledger's integration tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.domain.entries import Entry, entry_document, parse_entry
from ledgerbridge.domain.setup import FolderSetup, parse_setup
from tests.unit.conftest import ACME_SETUP as CHECKED_ACME_SETUP

Document = dict[str, Any]

# Posting time of every batch in these tests: 23:30 UTC is already the next day in Paris.
POSTED_AT = datetime(2026, 3, 20, 23, 30, tzinfo=UTC)

# The domain tests' ACME folder of SPEC §4.1, without its closed fiscal year and its locked
# journal, so that its fiscal years are the two open ones, and with its limits written out.
ACME_SETUP: Document = {
    **copy.deepcopy(CHECKED_ACME_SETUP),
    "fiscal_years": [
        year for year in CHECKED_ACME_SETUP["fiscal_years"] if year["status"] == "open"
    ],
    "journals": [
        journal for journal in CHECKED_ACME_SETUP["journals"] if journal["status"] != "locked"
    ],
    "limits": {"label": 69, "reference": 13},
}


def acme_document() -> Document:
    """A fresh copy of the ACME setup document, free to be changed."""
    return copy.deepcopy(ACME_SETUP)


def acme_setup(**changes: Any) -> FolderSetup:
    document = acme_document()
    document.update(changes)
    return parse_setup(document)


def without(document: Document, kind: str, code: str) -> Document:
    """The setup document without one item of a kind (`journals`, `accounts`...)."""
    key = "number" if kind == "accounts" else "code"
    changed = copy.deepcopy(document)
    changed[kind] = [item for item in changed[kind] if item[key] != code]
    return changed


def purchase(
    entry_id: str,
    day: str = "2026-03-14",
    amount: str = "100.00",
    *,
    reference: str | None = "F2026-0042",
    label: str | None = "EDF mars 2026",
    vat: str | None = None,
) -> Entry:
    """An EDF invoice as SPEC §4.2 writes it: expense (allocated to PARIS), VAT, supplier."""
    net = Decimal(amount)
    tax = Decimal(vat) if vat is not None else (net / 5).quantize(Decimal("0.01"))
    return parse_entry(
        {
            "id": entry_id,
            "journal": "ACH",
            "date": day,
            "reference": reference,
            "label": label,
            "lines": [
                {
                    "account": "606100",
                    "label": "EDF",
                    "debit": str(net),
                    "analytics": [{"axis": "SITE", "section": "PARIS", "amount": str(net)}],
                },
                {"account": "445660", "label": "TVA", "debit": str(tax)},
                {"account": "401000", "auxiliary": "FEDF", "credit": str(net + tax)},
            ],
        }
    )


def sale(entry_id: str, day: str = "2026-04-02", amount: str = "1000.00") -> Entry:
    """A sale to Dupont, without labels on its lines."""
    net = Decimal(amount)
    tax = (net / 5).quantize(Decimal("0.01"))
    return parse_entry(
        {
            "id": entry_id,
            "journal": "VTE",
            "date": day,
            "label": f"Facture {entry_id}",
            "lines": [
                {"account": "411000", "auxiliary": "CDUPONT", "debit": str(net + tax)},
                {"account": "706000", "credit": str(net)},
                {"account": "445710", "credit": str(tax)},
            ],
        }
    )


def without_auxiliary(entry_id: str, day: str = "2026-03-14") -> Entry:
    """A purchase whose supplier line lacks its auxiliary account: rejected (collective_account)."""
    document = entry_document(purchase(entry_id, day))
    del document["lines"][2]["auxiliary"]
    return parse_entry(document)
