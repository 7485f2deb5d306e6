"""The check's quick pass over an entry agrees with the rules run in order, on every entry.

`check_entry` runs the rules of §5 only when `_passes_every_rule` says one of them has
something to say; these tests hold that verdict to the rules themselves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.conftest import EDF_INVOICE

from ledgerbridge.domain.check import RULES, _passes_every_rule, check_entry
from ledgerbridge.domain.entries import Entry, parse_entry
from ledgerbridge.domain.findings import Finding
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.setup import FolderSetup, parse_setup

Document = dict[str, Any]
Change = Callable[[Document], None]


def _by_the_rules(entry: Entry, folder: FolderIndex) -> tuple[Finding, ...]:
    return tuple(finding for rule in RULES for finding in rule(entry, folder))


def _agrees(raw: Document, folder: FolderIndex) -> bool:
    """Asserts the quick pass and the rules agree on the entry; whether it is accepted."""
    entry = parse_entry(raw, 0)
    expected = _by_the_rules(entry, folder)
    result = check_entry(entry, folder)
    assert result.findings == expected
    assert _passes_every_rule(entry, folder) == (not expected)
    return result.accepted


def _set(path: str, value: object) -> Change:
    """Sets `lines.0.account` and the like in an entry or a setup document."""

    def change(document: Document) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _setup_variant(acme_setup: FolderSetup, *changes: Change) -> FolderIndex:
    document = acme_setup.to_document()
    for change in changes:
        change(document)
    return FolderIndex.of(parse_setup(document))


# Each breaks one condition of one rule in the §4.2 invoice, accepted as it stands.
ONE_THING_WRONG: dict[str, Change] = {
    "no journal": _set("journal", None),
    "empty journal": _set("journal", ""),
    "no date": _set("date", None),
    "no lines": _set("lines", []),
    "a line without account": _set("lines.1.account", None),
    "a line without amount": _set("lines.1.debit", None),
    "a line with zero amounts": _set("lines.1.debit", "0.00"),
    "a long reference": _set("reference", "R" * 14),
    "a long label": _set("label", "L" * 70),
    "a long line label": _set("lines.1.label", "L" * 70),
    "unbalanced": _set("lines.1.debit", "20.01"),
    "both sides": _set("lines.1.credit", "20.00"),
    "an unknown journal": _set("journal", "XYZ"),
    "an unknown account": _set("lines.1.account", "999999"),
    "an unknown auxiliary": _set("lines.2.auxiliary", "NOBODY"),
    "another account's auxiliary": _set("lines.2.auxiliary", "CDUPONT"),
    "a closed fiscal year": _set("date", "2024-06-01"),
    "before every fiscal year": _set("date", "2023-06-01"),
    "after every fiscal year": _set("date", "2027-01-01"),
    "a read-only journal": _set("journal", "OD"),
    "a locked journal": _set("journal", "HA"),
    "a locked period": _set("date", "2025-03-01"),
    "a collective account without auxiliary": _set("lines.2.auxiliary", None),
    "a locked account": _set("lines.1.account", "626000"),
    "no allocation on an analytic account": _set("lines.0.analytics", []),
    "an allocation without axis": _set("lines.0.analytics.0.axis", None),
    "an allocation on an unknown axis": _set("lines.0.analytics.0.axis", "REGION"),
    "an allocation without section": _set("lines.0.analytics.0.section", None),
    "an allocation on an unknown section": _set("lines.0.analytics.0.section", "NICE"),
    "allocations short of the line": _set("lines.0.analytics.0.amount", "99.99"),
    "an allocation without amount": _set("lines.0.analytics.0.amount", None),
    "allocations short on a plain account": _set(
        "lines.1.analytics", [{"axis": "SITE", "section": "LYON", "amount": "2.00"}]
    ),
}


def test_the_invoice_passes(acme: FolderIndex, edf_invoice: Document) -> None:
    assert _agrees(edf_invoice, acme)


@pytest.mark.parametrize("change", ONE_THING_WRONG.values(), ids=ONE_THING_WRONG.keys())
def test_one_thing_wrong_is_found_by_the_rules(
    acme: FolderIndex, edf_invoice: Document, change: Change
) -> None:
    change(edf_invoice)

    assert not _agrees(edf_invoice, acme)


def test_a_second_axis_is_needed_on_an_analytic_account(
    acme_setup: FolderSetup, edf_invoice: Document
) -> None:
    axis = {"code": "ACTIVITY", "name": "Activité", "sections": ["CONSEIL"]}
    folder = _setup_variant(acme_setup, lambda setup: setup["analytics"]["axes"].append(axis))

    assert not _agrees(edf_invoice, folder)
    edf_invoice["lines"][0]["analytics"].append(
        {"axis": "ACTIVITY", "section": "CONSEIL", "amount": "100.00"}
    )
    assert _agrees(edf_invoice, folder)


def test_a_line_without_allocation_passes_where_the_folder_allows_it(
    acme_setup: FolderSetup, edf_invoice: Document
) -> None:
    folder = _setup_variant(acme_setup, _set("analytics.allow_entries_without_analytics", True))
    edf_invoice["lines"][0]["analytics"] = None

    assert _agrees(edf_invoice, folder)
    edf_invoice["lines"][0]["analytics"] = [{"axis": "SITE", "section": "PARIS"}]
    assert not _agrees(edf_invoice, folder)


def test_a_line_without_allocation_passes_in_a_folder_without_axes(
    acme_setup: FolderSetup, edf_invoice: Document
) -> None:
    folder = _setup_variant(acme_setup, _set("analytics.axes", []))
    edf_invoice["lines"][0]["analytics"] = []

    assert _agrees(edf_invoice, folder)


def test_only_the_two_latest_open_fiscal_years_take_entries(
    acme_setup: FolderSetup, edf_invoice: Document
) -> None:
    year = {"code": "2027", "start": "2027-01-01", "end": "2027-12-31", "status": "open"}
    folder = _setup_variant(acme_setup, lambda setup: setup["fiscal_years"].append(year))

    edf_invoice["date"] = "2025-08-01"
    assert not _agrees(edf_invoice, folder)
    edf_invoice["date"] = "2027-08-01"
    assert _agrees(edf_invoice, folder)


def test_a_folder_without_fiscal_years_takes_no_entry(
    acme_setup: FolderSetup, edf_invoice: Document
) -> None:
    assert not _agrees(edf_invoice, _setup_variant(acme_setup, _set("fiscal_years", [])))


# Values each part of an entry may take, good and bad, for the generated entries below.
ENTRY_VALUES: dict[str, list[object]] = {
    "journal": ["ACH", "VTE", "BQ", "OD", "HA", "XYZ", "", None],
    "date": ["2026-03-14", "2025-08-01", "2025-03-01", "2024-06-01", "2027-01-01", None],
    "reference": [None, "", "F2026-0042", "R" * 14],
    "label": [None, "", "L" * 69, "L" * 70],
}
LINE_VALUES: dict[str, list[object]] = {
    "account": ["606100", "445660", "401000", "411000", "512000", "626000", "999999", "", None],
    "auxiliary": ["FEDF", "CDUPONT", "NOBODY", "", None],
    "label": [None, "", "L" * 69, "L" * 70],
    "debit": [None, "0.00", "20.00", "100.00", "120.00"],
    "credit": [None, "0.00", "20.00", "100.00", "120.00"],
    "analytics": [
        None,
        [],
        [{"axis": "SITE", "section": "PARIS", "amount": "100.00"}],
        [
            {"axis": "SITE", "section": "PARIS", "amount": "60.00"},
            {"axis": "SITE", "section": "LYON", "amount": "40.00"},
        ],
        [{"axis": "SITE", "section": "PARIS", "amount": "20.00"}],
        [{"axis": "SITE", "section": "PARIS"}],
        [{"axis": "REGION", "section": "PARIS", "amount": "100.00"}],
        [{"axis": "SITE", "section": "NICE", "amount": "100.00"}],
        [{"section": "PARIS", "amount": "100.00"}],
    ],
}


@st.composite
def changed_invoices(draw: st.DrawFn, invoice: Document) -> Document:
    """The §4.2 invoice with a few of its values changed, and maybe a line more or less."""
    raw = copy.deepcopy(invoice)
    lines: list[Document] = raw["lines"]
    if draw(st.booleans()):
        lines.append(copy.deepcopy(lines[draw(st.integers(0, len(lines) - 1))]))
    if draw(st.integers(0, 5)) == 0:
        del lines[draw(st.integers(0, len(lines) - 1))]
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            key = draw(st.sampled_from(list(ENTRY_VALUES)))
            raw[key] = draw(st.sampled_from(ENTRY_VALUES[key]))
        elif lines:
            line = lines[draw(st.integers(0, len(lines) - 1))]
            key = draw(st.sampled_from(list(LINE_VALUES)))
            line[key] = copy.deepcopy(draw(st.sampled_from(LINE_VALUES[key])))
    return raw


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=changed_invoices(EDF_INVOICE), allow_without_analytics=st.booleans())
def test_the_quick_pass_and_the_rules_agree_on_generated_entries(
    acme_setup: FolderSetup, raw: Document, allow_without_analytics: bool
) -> None:
    folder = _setup_variant(
        acme_setup, _set("analytics.allow_entries_without_analytics", allow_without_analytics)
    )

    _agrees(raw, folder)
