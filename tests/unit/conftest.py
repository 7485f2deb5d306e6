"""The ACME folder the domain tests check entries against, and quick ways to check one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import parse_entry
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.setup import FolderSetup, parse_setup

Document = dict[str, Any]

# The setup of SPEC §4.1, with a closed fiscal year 2024, a locked journal, the sales
# accounts and a customer added so that every rule has something to bite on.
# Limits are left out on purpose: the defaults (69 / 13) apply.
ACME_SETUP: Document = {
    "folder": "ACME",
    "name": "ACME SAS",
    "siren": "552100554",
    "fiscal_years": [
        {"code": "2024", "start": "2024-01-01", "end": "2024-12-31", "status": "closed"},
        {"code": "2025", "start": "2025-01-01", "end": "2025-12-31", "status": "open"},
        {"code": "2026", "start": "2026-01-01", "end": "2026-12-31", "status": "open"},
    ],
    "journals": [
        {"code": "ACH", "kind": "purchase", "name": "Achats", "status": "open"},
        {"code": "VTE", "kind": "sales", "name": "Ventes", "status": "open"},
        {"code": "OD", "kind": "OD", "name": "Opérations diverses", "status": "read_only"},
        {"code": "BQ", "kind": "bank", "name": "Banque", "status": "open"},
        {"code": "HA", "kind": "purchase", "name": "Achats (ancien)", "status": "locked"},
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
}

# The entry of SPEC §4.2: accepted by the ACME folder as it stands.
EDF_INVOICE: Document = {
    "id": "inv-2026-0042",
    "journal": "ACH",
    "date": "2026-03-14",
    "reference": "F2026-0042",
    "label": "EDF mars 2026",
    "lines": [
        {
            "account": "606100",
            "label": "EDF mars 2026",
            "debit": "100.00",
            "analytics": [{"axis": "SITE", "section": "PARIS", "amount": "100.00"}],
        },
        {"account": "445660", "label": "TVA", "debit": "20.00"},
        {"account": "401000", "auxiliary": "FEDF", "label": "EDF", "credit": "120.00"},
    ],
}


@pytest.fixture
def setup_document() -> Document:
    """A fresh copy of the ACME setup document, free to be changed by the test."""
    return copy.deepcopy(ACME_SETUP)


@pytest.fixture
def edf_invoice() -> Document:
    """A fresh copy of the §4.2 entry, free to be changed by the test."""
    return copy.deepcopy(EDF_INVOICE)


@pytest.fixture(scope="session")
def acme_setup() -> FolderSetup:
    """The ACME setup, read once; it is frozen, so sharing it is safe (property tests need that)."""
    return parse_setup(copy.deepcopy(ACME_SETUP))


@pytest.fixture
def acme(acme_setup: FolderSetup) -> FolderIndex:
    return FolderIndex.of(acme_setup)


@pytest.fixture
def check(acme: FolderIndex) -> Callable[[Document], CheckResult]:
    """Reads a raw entry as a batch would and checks it against the ACME folder."""

    def run(raw: Document) -> CheckResult:
        return check_entry(parse_entry(raw, 0), acme)

    return run


@pytest.fixture
def check_in() -> Callable[[Document, Document], CheckResult]:
    """Reads a raw setup and a raw entry and checks the entry against that folder."""

    def run(setup: Document, raw: Document) -> CheckResult:
        return check_entry(parse_entry(raw, 0), FolderIndex.of(parse_setup(setup)))

    return run
