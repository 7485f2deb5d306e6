"""The ACME folder of SPEC §4.1 and entries to post in it, for the ledger's integration tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.domain.entries import Entry, entry_document, parse_entry
from ledgerbridge.domain.setup import FolderSetup, parse_setup

Document = dict[str, Any]

# Posting time of every batch in these tests: 23:30 UTC is already the next day in Paris.
POSTED_AT = datetime(2026, 3, 20, 23, 30, tzinfo=UTC)

# SPEC §4.1, with a customer and a sales account so that sales can be posted too.
ACME_SETUP: Document = {
    "folder": "ACME",
    "name": "ACME SAS",
    "siren": "552100554",
    "fiscal_years": [
        {"code": "2025", "start": "2025-01-01", "end": "2025-12-31", "status": "open"},
        {"code": "2026", "start": "2026-01-01", "end": "2026-12-31", "status": "open"},
    ],
    "journals": [
        {"code": "ACH", "kind": "purchase", "name": "Achats", "status": "open"},
        {"code": "VTE", "kind": "sales", "name": "Ventes", "status": "open"},
        {"code": "OD", "kind": "OD", "name": "Opérations diverses", "status": "read_only"},
        {"code": "BQ", "kind": "bank", "name": "Banque", "status": "open"},
    ],
    "accounts": [
        {"number": "401000", "name": "Fournisseurs", "collective": True},
        {"number": "411000", "name": "Clients", "collective": True},
        {"number": "445660", "name": "TVA déductible"},
        {"number": "445710", "name": "TVA collectée"},
        {"number": "512000", "name": "Banque"},
        {"number": "606100", "name": "Fournitures", "analytics": True},
        {"number": "626000", "name": "Télécommunications", "locked": True},
        {"number": "706000", "name": "Prestations de services"},
    ],
    "third_parties": [
        {"code": "FEDF", "name": "EDF", "account": "401000"},
        {"code": "CDUPONT", "name": "Dupont SARL", "account": "411000"},
    ],
    "analytics": {
        "allow_entries_without_analytics": False,
        "axes": [{"code": "SITE", "name": "Site", "sections": ["PARIS", "LYON"]}],
    },
    "import_cursor": {"locked_periods": [{"from": "2025-01-01", "to": "2025-06-30"}]},
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
